using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.WorkflowTriggers;

internal static class ReceiveHook
{
    public const string SignatureHeader = "X-Hook-Signature";
    public const string TimestampHeader = "X-Hook-Timestamp";
    private static readonly TimeSpan SignatureTolerance = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Anonymous: the unguessable token in the URL is the credential, and for signed triggers also the HMAC of the body.
    /// Starts a run of the workflow's active version as the trigger's creator.
    /// </summary>
    public static async Task<IResult> HandleAsync(
        string token, HttpContext context, TriggerStore triggers, SecretProtector protector, RateLimiter limiter, IOptions<WorkflowTriggersOptions> options,
        WorkflowRunner runner, WorkflowRuns runs, ExecutionNotifier notifier, IOptions<WorkflowsOptions> workflowOptions, TimeProvider time,
        ILogger<WorkflowTriggersFunctions> logger, CancellationToken cancellationToken)
    {
        if (await triggers.FindHookAsync(token, cancellationToken) is not { } trigger)
        {
            return Api.NotFound("The hook was not found.");
        }

        var decision = limiter.Acquire("hook:" + trigger.Id, options.Value.HookPerMinute);
        if (!decision.Allowed)
        {
            context.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Api.Error(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimitExceeded,
                $"This hook accepts {decision.Limit} calls a minute; retry after {decision.RetryAfterSeconds} s.");
        }

        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var raw = buffer.ToArray();
        if (trigger.SealedSecret is { } sealedSecret
            && Verify(request, raw, protector.Unprotect(sealedSecret, CreateTrigger.SigningPurpose(trigger.Id)), time.GetUtcNow()) is { } refused)
        {
            return Api.Unauthorized(refused);
        }

        var inputs = trigger.Inputs.DeepClone().AsObject();
        inputs["request"] = new JsonObject
        {
            ["body"] = Body(request.ContentType, raw),
            ["query"] = new JsonObject(request.Query.Select(q => KeyValuePair.Create(q.Key, Values(q.Value)))),
            ["headers"] = new JsonObject(request.Headers.Where(h => Forwarded(h.Key))
                .Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), Values(h.Value)))),
        };

        var principal = new RunPrincipal(trigger.CreatedBy, null, null);
        var (run, error) = await runner.StartAsync(trigger.WorkspaceId, trigger.WorkflowId, null, inputs, null, principal, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        WorkflowTriggersLog.HookStarted(logger, trigger.Id, trigger.WorkflowId, run!.Id);
        if (trigger.Respond != TriggerTypes.WhenFinished)
        {
            return Api.Accepted(new ExecutionAcceptedDto(run.Id, run.Status, run.WorkflowId, run.Version));
        }

        var wait = TimeSpan.FromMilliseconds(workflowOptions.Value.RunWaitDefaultMs);
        var latest = await notifier.WaitForEndAsync(runs, run.Id, wait, time, cancellationToken) ?? run;
        var response = new RunWorkflow.Response(latest.Id, latest.Id, latest.Status, latest.Outputs, latest.Error,
            ExecutionViews.Duration(latest.StartedAt ?? latest.CreatedAt, latest.CompletedAt), ExecutionViews.TokenUsage(latest));
        return ExecutionStatus.IsTerminal(latest.Status) ? Api.Ok(response) : Api.Accepted(response);
    }

    /// <summary>Why the signature is refused, or null when it holds: HMAC-SHA256 over "{timestamp}.{body}", within five minutes.</summary>
    private static string? Verify(HttpRequest request, byte[] body, string? secret, DateTimeOffset now)
    {
        if (secret is null)
        {
            return "The hook's signing secret cannot be read; create the trigger again.";
        }

        var timestamp = request.Headers[TimestampHeader].ToString();
        var signature = request.Headers[SignatureHeader].ToString();
        if (timestamp.Length == 0 || signature.Length == 0)
        {
            return $"This hook is signed: send {TimestampHeader} (Unix seconds) and {SignatureHeader}: sha256=<hex HMAC-SHA256 of \"{{timestamp}}.{{body}}\">.";
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > SignatureTolerance)
        {
            return $"{TimestampHeader} must be the current time in Unix seconds (within five minutes).";
        }

        return PayloadSignature.Matches(secret, timestamp, body, signature) ? null : "The signature does not match the body.";
    }

    /// <summary>The body as JSON when it says it is JSON and parses, else its text (null when empty).</summary>
    private static JsonNode? Body(string? contentType, byte[] raw)
    {
        if (raw.Length == 0)
        {
            return null;
        }

        if (contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                return JsonNode.Parse(raw);
            }
            catch (JsonException)
            {
                // Not JSON after all: the workflow gets the text.
            }
        }

        return JsonValue.Create(Encoding.UTF8.GetString(raw));
    }

    private static JsonNode? Values(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Count == 1 ? JsonValue.Create(values[0]) : new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    // Credentials never reach a run's inputs: the signature, and a platform key sent by mistake.
    private static bool Forwarded(string header) =>
        header.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
        || header.Equals("User-Agent", StringComparison.OrdinalIgnoreCase)
        || (header.StartsWith("X-", StringComparison.OrdinalIgnoreCase)
            && !header.Equals(SignatureHeader, StringComparison.OrdinalIgnoreCase)
            && !header.Equals(PlatformAuthenticationHandler.ApiKeyHeader, StringComparison.OrdinalIgnoreCase));
}
