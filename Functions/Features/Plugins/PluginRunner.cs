using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Features.Integrations;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Plugins;

/// <summary>Who asked for an execution: where from, the user, and the principal a workflow plugin's run acts for.</summary>
internal sealed record PluginInvoker(string Source, string? UserId, RunPrincipal? Principal)
{
    public const string Api = "api";
    public const string Node = "node";
    public const string Assistant = "assistant";
    public const string Tool = "tool";
}

/// <summary>
/// Runs plugins: the one place that checks a plugin is enabled and configured, its input against its schema, what it may
/// reach against what the workspace granted, and its output against its schema, and that keeps the execution's record.
/// </summary>
/// <remarks>
/// The workflow runtime's services are resolved when a workflow plugin runs: the plugin node is a node type, which the
/// workflow engine depends on, so the engine cannot be a constructor dependency here.
/// </remarks>
internal sealed class PluginRunner(
    PluginStore store, PluginHttp http, PluginGuard guard, WorkflowStore workflowStore, IntegrationStore credentials, IServiceProvider services, TimeProvider time,
    ILogger<PluginRunner> logger)
{
    /// <summary>Runs <paramref name="plugin"/> now and records the execution under <paramref name="executionId"/> (a new id when null).</summary>
    public async Task<(PluginExecutionRecord Execution, PluginOutcome Outcome)> ExecuteAsync(
        string workspaceId, WorkspacePlugin plugin, JsonObject input, PluginInvoker invoker, string? executionId, CancellationToken cancellationToken)
    {
        var id = executionId ?? Secrets.NewId("pex");
        var created = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var outcome = await RunAsync(workspaceId, plugin, input, id, invoker, cancellationToken);
        var latency = (long)clock.Elapsed.TotalMilliseconds;
        if (!outcome.Succeeded)
        {
            PluginsLog.ExecutionFailed(logger, plugin.Id, workspaceId, id, outcome.ErrorCode!, outcome.Error!);
        }

        var done = new PluginExecutionRecord(id, plugin.Id, outcome.Succeeded ? PluginExecutionStatus.Succeeded : PluginExecutionStatus.Failed, invoker.Source,
            invoker.UserId, null, outcome.Output, outcome.ErrorCode, outcome.Error, latency, created, time.GetUtcNow());
        if (executionId is null)
        {
            await store.InsertExecutionAsync(workspaceId, done, CancellationToken.None);
            return (done, outcome);
        }

        var updated = await store.UpdateExecutionAsync(workspaceId, plugin.Id, id, e => done with { CreatedAt = e.CreatedAt }, CancellationToken.None);
        return (updated ?? done, outcome);
    }

    /// <summary>The checks and the call, without the record.</summary>
    private async Task<PluginOutcome> RunAsync(
        string workspaceId, WorkspacePlugin plugin, JsonObject input, string executionId, PluginInvoker invoker, CancellationToken cancellationToken)
    {
        var manifest = plugin.Manifest;
        if (!plugin.Enabled)
        {
            return PluginOutcome.Fail(PluginErrors.Disabled, $"The plugin {plugin.Id} is disabled in this workspace.");
        }

        if (PluginSchemas.Check(manifest.InputSchema, input, "input") is { Count: > 0 } inputErrors)
        {
            return PluginOutcome.Fail(PluginErrors.InputInvalid, "The input does not match the plugin's input schema.", details: inputErrors);
        }

        if (Configuration(workspaceId, plugin) is not { } config)
        {
            return PluginOutcome.Fail(PluginErrors.NotConfigured, "A secret of the plugin's configuration cannot be read any more (the secret-protection key changed); set it again.");
        }

        if (PluginSchemas.Check(manifest.ConfigSchema, config, "config") is { Count: > 0 } configErrors)
        {
            return PluginOutcome.Fail(PluginErrors.NotConfigured,
                "The plugin is not configured: " + string.Join("; ", configErrors.Select(e => $"{e.Field}: {e.Message}")) + " (PUT /api/v1/plugins/{id}/config).");
        }

        var seconds = Math.Min(http.Options.TimeoutSeconds, manifest.Runtime.TimeoutSeconds ?? int.MaxValue);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        PluginOutcome outcome;
        try
        {
            outcome = manifest.Runtime.Kind switch
            {
                RuntimeKinds.Builtin => await plugin.Builtin!.ExecuteAsync(new BuiltinCall(workspaceId, input, config, plugin.Granted), timeout.Token),
                RuntimeKinds.Http => await CallAsync(workspaceId, plugin, input, config, executionId, timeout.Token),
                _ => await RunWorkflowAsync(workspaceId, plugin, input, invoker, TimeSpan.FromSeconds(seconds), timeout.Token),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return PluginOutcome.Fail(PluginErrors.Timeout, $"The plugin did not finish within {seconds} s.", retryable: true);
        }
        catch (HttpRequestException exception)
        {
            return PluginOutcome.Fail(PluginErrors.Unreachable, "The plugin could not be reached: " + exception.Message, retryable: true);
        }

        if (outcome.Succeeded && PluginSchemas.Check(manifest.OutputSchema, outcome.Output, "output") is { Count: > 0 } outputErrors)
        {
            return PluginOutcome.Fail(PluginErrors.OutputInvalid, "The plugin's output does not match its output schema.", details: outputErrors);
        }

        if (outcome.ErrorCode == PluginErrors.CapabilityDenied)
        {
            PluginsLog.CapabilityDenied(logger, plugin.Id, workspaceId, outcome.Error!);
        }

        return outcome;
    }

    /// <summary>The config as the plugin reads it: the plain values with the secret ones unsealed; null when a secret no longer unseals.</summary>
    public JsonObject? Configuration(string workspaceId, WorkspacePlugin plugin)
    {
        var config = (JsonObject)plugin.Config.DeepClone();
        foreach (var (field, sealedValue) in plugin.SealedSecrets)
        {
            if (store.Unseal(workspaceId, plugin.Id, field, sealedValue) is not { } secret)
            {
                return null;
            }

            config[field] = JsonNode.Parse(secret);
        }

        return config;
    }

    private async Task<PluginOutcome> CallAsync(string workspaceId, WorkspacePlugin plugin, JsonObject input, JsonObject config, string executionId, CancellationToken cancellationToken)
    {
        var url = plugin.Manifest.Runtime.Url ?? (config["url"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null);
        if (!PrivateNetworkGuard.IsHttpUrl(url))
        {
            return PluginOutcome.Fail(PluginErrors.NotConfigured, "The plugin has no valid URL: set config.url to an absolute http or https URL.");
        }

        var target = new Uri(url!);
        if (!plugin.Granted.AllowsHost(target.IdnHost))
        {
            return PluginOutcome.Fail(PluginErrors.CapabilityDenied, $"The workspace did not grant this plugin network access to {target.IdnHost}.");
        }

        if (await guard.CheckAsync(target, cancellationToken) is { } refused)
        {
            return PluginOutcome.Fail(PluginErrors.CapabilityDenied, refused + " Plugins__AllowedPrivateHosts lists the exceptions.");
        }

        var body = new JsonObject
        {
            ["input"] = input.DeepClone(),
            ["config"] = config.DeepClone(),
            ["context"] = new JsonObject { ["pluginId"] = plugin.Id, ["executionId"] = executionId, ["workspaceId"] = workspaceId },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("serverless-platform-plugins", "1"));
        request.Headers.Add("X-Plugin-Id", plugin.Id);
        request.Headers.Add("X-Plugin-Execution-Id", executionId);
        using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var text = await http.ReadLimitedAsync(response, cancellationToken);
        if (text is null)
        {
            return PluginOutcome.Fail(PluginErrors.Failed, $"The plugin's response is larger than {http.Options.MaxResponseBytes} bytes.");
        }

        JsonNode? answer = null;
        try
        {
            answer = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        catch (JsonException)
        {
            // Not JSON: reported below by status.
        }

        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode && answer is JsonObject ok && ok.ContainsKey("output"))
        {
            return PluginOutcome.Success(ok["output"]?.DeepClone());
        }

        var message = (answer as JsonObject)?["error"] switch
        {
            JsonObject error when error["message"] is JsonValue m && m.GetValueKind() == JsonValueKind.String => m.GetValue<string>(),
            JsonValue m when m.GetValueKind() == JsonValueKind.String => m.GetValue<string>(),
            _ => response.IsSuccessStatusCode ? "The plugin answered without an output: reply {\"output\": …}." : $"The plugin answered HTTP {status}.",
        };
        return PluginOutcome.Fail(PluginErrors.Failed, message.Length > 1000 ? message[..1000] : message, retryable: status is 429 or >= 500);
    }

    private async Task<PluginOutcome> RunWorkflowAsync(
        string workspaceId, WorkspacePlugin plugin, JsonObject input, PluginInvoker invoker, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!plugin.Granted.Workflows)
        {
            return PluginOutcome.Fail(PluginErrors.CapabilityDenied, "The workspace did not grant this plugin the right to start workflows.");
        }

        if (await UngrantedCredentialAsync(workspaceId, plugin, cancellationToken) is { } provider)
        {
            return PluginOutcome.Fail(PluginErrors.CapabilityDenied,
                $"The plugin's workflow uses a {provider} credential; the workspace did not grant the plugin credentials:{provider}.");
        }

        var metadata = new JsonObject { ["plugin"] = plugin.Id };
        var runs = services.GetRequiredService<WorkflowRuns>();
        var (run, error) = await services.GetRequiredService<WorkflowRunner>().StartAsync(workspaceId, plugin.Manifest.Runtime.WorkflowId!, null, input, metadata, invoker.Principal, cancellationToken);
        if (run is null)
        {
            return PluginOutcome.Fail(PluginErrors.Failed, "The plugin's workflow did not start: " + ErrorText(error));
        }

        var ended = await services.GetRequiredService<ExecutionNotifier>().WaitForEndAsync(runs, run.Id, wait, time, cancellationToken);
        if (ended is null || !ExecutionStatus.IsTerminal(ended.Status))
        {
            throw new OperationCanceledException();
        }

        return ended.Status == ExecutionStatus.Succeeded
            ? PluginOutcome.Success(ended.Outputs?.DeepClone())
            : PluginOutcome.Fail(PluginErrors.Failed, $"The plugin's workflow run {run.Id} {ended.Status}: {ended.Error?.Message}");
    }

    /// <summary>
    /// The provider of a stored credential the plugin's workflow attaches (a node's <c>config.credentialId</c>) that the
    /// workspace did not grant the plugin, or null when it uses none beyond its grant.
    /// </summary>
    private async Task<string?> UngrantedCredentialAsync(string workspaceId, WorkspacePlugin plugin, CancellationToken cancellationToken)
    {
        if (await workflowStore.GetAsync(workspaceId, plugin.Manifest.Runtime.WorkflowId!, cancellationToken) is not { } workflow)
        {
            return null;
        }

        foreach (var node in workflow.Value.Definition.Nodes)
        {
            if (node.Config?["credentialId"] is JsonValue id && id.GetValueKind() == JsonValueKind.String
                && await credentials.GetAsync(workspaceId, id.GetValue<string>(), cancellationToken) is { } credential
                && !plugin.Granted.Credentials.Contains(credential.Provider, StringComparer.Ordinal))
            {
                return credential.Provider;
            }
        }

        return null;
    }

    private static string ErrorText(IResult? error) => error is Platform.Http.ErrorResult e ? e.Message : "it was refused.";
}
