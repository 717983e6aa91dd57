using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class RunWorkflow
{
    internal sealed record RunOptions(bool? Stream, int? Timeout);

    internal sealed record Request(JsonObject? Inputs, RunOptions? Options, int? Version);

    internal sealed record Response(string RunId, string ExecutionId, string Status, JsonObject? Outputs, RunError? Error, long? ExecutionTime, TokenUsageDto TokenUsage);

    /// <summary>Starts a run and waits for it up to <c>options.timeout</c> ms; a run still going then is answered with 202 and continues.</summary>
    public static async Task<IResult> HandleAsync(
        string id, Request? request, Caller caller, WorkspaceContext workspace, WorkflowRunner runner, WorkflowRuns runs, ExecutionNotifier notifier,
        IOptions<WorkflowsOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (request?.Options?.Timeout is < 0)
        {
            return Api.Validation("options.timeout", "options.timeout is a number of milliseconds, 0 or more.");
        }

        var (run, error) = await runner.StartAsync(workspace.WorkspaceId, id, request?.Version, request?.Inputs ?? [], null, RunPrincipals.Of(caller), cancellationToken);
        if (error is not null)
        {
            return error;
        }

        if (request?.Options?.Stream == true)
        {
            return new ExecutionEventStream(run!.Id, 0, TimeSpan.FromSeconds(settings.HeartbeatSeconds));
        }

        var wait = TimeSpan.FromMilliseconds(Math.Min(request?.Options?.Timeout ?? settings.RunWaitDefaultMs, settings.RunWaitMaxMs));
        var latest = await notifier.WaitForEndAsync(runs, run!.Id, wait, time, cancellationToken) ?? run;
        var response = new Response(latest.Id, latest.Id, latest.Status, latest.Outputs, latest.Error,
            ExecutionViews.Duration(latest.StartedAt ?? latest.CreatedAt, latest.CompletedAt), ExecutionViews.TokenUsage(latest));
        return ExecutionStatus.IsTerminal(latest.Status) ? Api.Ok(response) : Api.Accepted(response);
    }
}
