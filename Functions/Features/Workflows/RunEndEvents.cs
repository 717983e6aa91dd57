using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Events;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

/// <summary>
/// Records <c>workflow.completed</c> and <c>workflow.failed</c> (a timeout is a failure; a stop is neither) in the platform
/// event log when a top-level run ends. The event id is derived from the run, so an end reported twice (the ending activity runs at least once) records once.
/// </summary>
internal sealed class RunEndEvents(PlatformEventLog events) : IRunCompletionListener
{
    public async Task OnRunEndedAsync(ExecutionDocument run, CancellationToken cancellationToken)
    {
        var type = run.Status switch
        {
            ExecutionStatus.Succeeded => PlatformEventTypes.WorkflowCompleted,
            ExecutionStatus.Failed or ExecutionStatus.TimedOut => PlatformEventTypes.WorkflowFailed,
            _ => null,
        };
        if (type is null)
        {
            return;
        }

        var data = new JsonObject
        {
            ["runId"] = run.Id,
            ["workflowId"] = run.WorkflowId,
            ["status"] = run.Status,
            ["outputs"] = run.Outputs?.DeepClone(),
        };
        if (type == PlatformEventTypes.WorkflowFailed)
        {
            data["error"] = run.Error is { } error
                ? new JsonObject { ["code"] = error.Code, ["message"] = error.Message, ["nodeId"] = error.NodeId }
                : null;
        }

        await events.AppendOnceAsync(run.WorkspaceId, $"{type}:{run.Id}", type, data, cancellationToken);
    }
}
