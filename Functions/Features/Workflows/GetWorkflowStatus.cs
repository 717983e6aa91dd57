using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class GetWorkflowStatus
{
    internal sealed record Response(string WorkflowId, string WorkflowStatus, int Version, ExecutionSummaryDto? LatestExecution);

    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, WorkflowStore workflows, WorkflowRuns runs, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } workflow)
        {
            return Api.NotFound("The workflow was not found.");
        }

        var latest = await runs.Index.LatestAsync(id, cancellationToken);
        var summary = latest is null ? null
            : ExecutionStatus.IsTerminal(latest.Status) ? ExecutionViews.Summary(latest)
            : (await runs.Store.LoadAsync(latest.Id, cancellationToken))?.Document is { } run ? ExecutionViews.Summary(run) : ExecutionViews.Summary(latest);
        return Api.Ok(new Response(id, workflow.Value.Status, workflow.Value.Version, summary));
    }
}
