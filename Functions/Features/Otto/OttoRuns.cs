using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Otto;

/// <summary>A run as Otto reads it to explain a failure: its status and error, and each failed node's error.</summary>
internal sealed record OttoRun(string Id, int Version, string Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, RunError? Error, IReadOnlyList<OttoFailedNode> FailedNodes);

internal sealed record OttoFailedNode(string Id, string Type, NodeError? Error);

internal static class OttoRuns
{
    /// <summary>The workflow's latest top-level runs, newest first, each read from its run document (the live status and the errors).</summary>
    public static async Task<IReadOnlyList<OttoRun>> RecentAsync(WorkflowRuns runs, string workspaceId, string workflowId, int limit, CancellationToken cancellationToken)
    {
        var list = new IndexedList<ExecutionSummary>(runs.Index.Runs, "createdAt", DefaultDescending: true);
        var page = await IndexedPaging.PageAsync(list, workspaceId, ListQuery.Default with { Limit = limit },
            new ListRequest<ExecutionSummary> { Filters = [("workflow", workflowId)] }, cancellationToken);
        var found = new List<OttoRun>();
        foreach (var entry in page?.Items ?? [])
        {
            if ((await runs.Store.LoadAsync(entry.Id, cancellationToken))?.Document is not { } run || run.WorkspaceId != workspaceId)
            {
                continue;
            }

            var failed = run.Definition.Nodes
                .Where(n => run.Nodes.TryGetValue(n.Id, out var state) && state.Status == NodeStatus.Failed)
                .Select(n => new OttoFailedNode(n.Id, n.Type, run.Nodes[n.Id].Error))
                .ToList();
            found.Add(new OttoRun(run.Id, run.Version, run.Status, run.CreatedAt, run.CompletedAt, run.Error, failed));
        }

        return found;
    }
}
