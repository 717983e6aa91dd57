using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Plugins;

/// <summary>An asynchronous execution waiting for the queue function.</summary>
internal sealed record PluginExecutionMessage(string WorkspaceId, string PluginId, string ExecutionId, RunPrincipal? Principal)
{
    public const string QueueName = "plugin-executions";
}

/// <summary>
/// <c>POST /api/v1/plugins/{id}/execute {input, async?}</c>: runs the plugin and answers its output (a failure is the
/// error envelope: 422 input, 403 capability, 409 disabled or not configured, 502 the plugin failed, 504 timeout), or with
/// <c>async: true</c> answers 202 at once and runs it from the queue; its status is at <c>…/executions/{executionId}</c>.
/// </summary>
internal static class ExecutePlugin
{
    internal sealed record Request(JsonObject? Input, bool? Async);

    internal sealed record Response(string ExecutionId, string PluginId, string Status, JsonNode? Output, long? LatencyMs, string StatusUrl);

    public static async Task<IResult> HandleAsync(
        string id, Request? request, Caller caller, WorkspaceContext workspace, PluginCatalog catalog, PluginRunner runner, PluginStore store, IWorkQueue queue,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } plugin)
        {
            return Api.NotFound("The plugin was not found.");
        }

        var input = request?.Input ?? [];
        if (Refusal(plugin, input) is { } refused)
        {
            return refused;
        }

        var invoker = new PluginInvoker(PluginInvoker.Api, caller.UserId, RunPrincipals.Of(caller));
        if (request?.Async == true)
        {
            var queued = new PluginExecutionRecord(Secrets.NewId("pex"), id, PluginExecutionStatus.Queued, invoker.Source, caller.UserId, input, null, null, null, null,
                time.GetUtcNow(), null);
            await store.InsertExecutionAsync(workspace.WorkspaceId, queued, cancellationToken);
            var message = new PluginExecutionMessage(workspace.WorkspaceId, id, queued.Id, invoker.Principal);
            await queue.EnqueueAsync(PluginExecutionMessage.QueueName, JsonSerializer.Serialize(message, JsonSerializerOptions.Web), null, cancellationToken);
            return Api.Accepted(new Response(queued.Id, id, queued.Status, null, null, StatusUrl(id, queued.Id)));
        }

        var (execution, outcome) = await runner.ExecuteAsync(workspace.WorkspaceId, plugin, input, invoker, null, cancellationToken);
        return outcome.Succeeded
            ? Api.Ok(new Response(execution.Id, id, execution.Status, execution.Output, execution.LatencyMs, StatusUrl(id, execution.Id)))
            : Api.Error(outcome.HttpStatus, outcome.ErrorCode!, outcome.Error!, outcome.Details);
    }

    /// <summary>Why <paramref name="plugin"/> will not run <paramref name="input"/> now (409 disabled, 422 input), or null.</summary>
    public static IResult? Refusal(WorkspacePlugin plugin, JsonObject input)
    {
        if (!plugin.Enabled)
        {
            return Api.Conflict($"The plugin {plugin.Id} is disabled in this workspace (POST /api/v1/plugins/{plugin.Id}/enable).");
        }

        return PluginSchemas.Check(plugin.Manifest.InputSchema, input, "input") is { Count: > 0 } errors
            ? Api.Validation(errors, "The input does not match the plugin's input schema.")
            : null;
    }

    public static string StatusUrl(string pluginId, string executionId) => $"/api/v1/plugins/{pluginId}/executions/{executionId}";

    /// <summary>Runs a queued execution (again, if a delivery repeats: an execution that ended is left alone).</summary>
    public static async Task RunQueuedAsync(PluginExecutionMessage message, PluginCatalog catalog, PluginRunner runner, PluginStore store, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (await store.GetExecutionAsync(message.WorkspaceId, message.PluginId, message.ExecutionId, cancellationToken) is not { } execution
            || PluginExecutionStatus.IsTerminal(execution.Status))
        {
            return;
        }

        if (await catalog.GetAsync(message.WorkspaceId, message.PluginId, cancellationToken) is not { } plugin)
        {
            await store.UpdateExecutionAsync(message.WorkspaceId, message.PluginId, execution.Id,
                e => e with { Status = PluginExecutionStatus.Failed, Input = null, ErrorCode = "PLUGIN_NOT_FOUND", Error = "The plugin was removed.", CompletedAt = time.GetUtcNow() },
                cancellationToken);
            return;
        }

        await store.UpdateExecutionAsync(message.WorkspaceId, message.PluginId, execution.Id, e => e with { Status = PluginExecutionStatus.Running }, cancellationToken);
        await runner.ExecuteAsync(message.WorkspaceId, plugin, execution.Input ?? [], new PluginInvoker(execution.Source, execution.UserId, message.Principal), execution.Id,
            cancellationToken);
    }
}

internal static class GetPluginExecution
{
    public static async Task<IResult> HandleAsync(string id, string executionId, WorkspaceContext workspace, PluginStore store, CancellationToken cancellationToken) =>
        await store.GetExecutionAsync(workspace.WorkspaceId, id, executionId, cancellationToken) is { } execution
            ? Api.Ok(PluginExecutionDto.From(execution))
            : Api.NotFound("The execution was not found.");
}

/// <summary>
/// <c>GET /api/v1/plugins/{id}/status</c>: enabled, health from the recent executions (healthy at ≥ 90 % success,
/// degraded at ≥ 50 %, failing below, unknown with none), their latency, and the executions themselves.
/// </summary>
internal static class GetPluginStatus
{
    internal sealed record Response(
        string PluginId, bool Enabled, bool Builtin, string Health, double? SuccessRate, long? AverageLatencyMs, DateTimeOffset? LastExecutionAt,
        IReadOnlyList<PluginExecutionDto> Executions);

    public static async Task<IResult> HandleAsync(
        string id, WorkspaceContext workspace, PluginCatalog catalog, PluginStore store, PluginHttp http, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } plugin)
        {
            return Api.NotFound("The plugin was not found.");
        }

        var recent = await store.RecentExecutionsAsync(workspace.WorkspaceId, id, http.Options.StatusExecutions, cancellationToken);
        var ended = recent.Where(e => PluginExecutionStatus.IsTerminal(e.Status)).ToList();
        double? rate = ended.Count == 0 ? null : Math.Round((double)ended.Count(e => e.Status == PluginExecutionStatus.Succeeded) / ended.Count, 4);
        var health = rate switch { null => "unknown", >= 0.9 => "healthy", >= 0.5 => "degraded", _ => "failing" };
        long? latency = ended.Count == 0 ? null : (long)ended.Average(e => e.LatencyMs ?? 0);
        return Api.Ok(new Response(id, plugin.Enabled, plugin.Builtin is not null, health, rate, latency, recent.FirstOrDefault()?.CreatedAt,
            [.. recent.Select(PluginExecutionDto.From)]));
    }
}
