using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class ListPendingReviews
{
    internal sealed record PendingReviewDto(string ExecutionId, string WorkflowId, string NodeId, string? NodeName, JsonObject? Prompt, DateTimeOffset WaitingSince);

    private static readonly ListShape<PendingReviewDto> Shape = new(
        r => r.ExecutionId + "/" + r.NodeId,
        new Dictionary<string, Func<PendingReviewDto, string>> { ["waitingSince"] = r => r.WaitingSince.UtcDateTime.ToString("O") },
        "waitingSince",
        DefaultDescending: false);

    // Pending reviews are found in the runs that hold a slot or wait for one, which the concurrency cap bounds
    // (Workflows:MaxRunningPerWorkspace plus Workflows:MaxQueuedPerWorkspace), so this list pages in memory.
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WorkflowRuns runs, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        var pending = new List<PendingReviewDto>();
        foreach (var id in await runs.ActiveRunsAsync(workspace.WorkspaceId, cancellationToken))
        {
            await CollectAsync(id, runs, pending, depth: 0, cancellationToken);
        }

        return Api.Page(Paging.Paginate(pending, query, Shape));
    }

    private static async Task CollectAsync(string executionId, WorkflowRuns runs, List<PendingReviewDto> pending, int depth, CancellationToken cancellationToken)
    {
        if ((await runs.Store.LoadAsync(executionId, cancellationToken))?.Document is not { } run || ExecutionStatus.IsTerminal(run.Status))
        {
            return;
        }

        foreach (var node in run.Definition.Nodes)
        {
            if (run.Nodes[node.Id] is { Status: NodeStatus.Waiting, Wait: { } wait })
            {
                if (wait is { EventName: HumanReviewNode.EventName, EventPayload: null })
                {
                    pending.Add(new PendingReviewDto(run.Id, run.WorkflowId, node.Id, node.Name, wait.Prompt, wait.Since));
                }

                // Reviews inside sub-workflows and loop items wait in child runs.
                foreach (var child in wait.Children.Where(c => !wait.ChildResults.ContainsKey(c.Key)).Select(c => c.Value))
                {
                    if (depth < 4)
                    {
                        await CollectAsync(child, runs, pending, depth + 1, cancellationToken);
                    }
                }
            }
        }
    }
}
