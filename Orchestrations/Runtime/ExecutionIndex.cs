using System.Globalization;
using System.Text.Json;
using Serverless.Orchestrations.Ports;

namespace Serverless.Orchestrations.Runtime;

/// <summary>A top-level run as listed (child runs of loops and sub-workflows are reached through their parent).</summary>
/// <param name="Id">The run.</param>
/// <param name="WorkflowId">Its workflow.</param>
/// <param name="Version">The version it runs.</param>
/// <param name="Status">Its status when the entry was last written; non-terminal entries may be behind the run.</param>
/// <param name="CreatedAt">When it was accepted.</param>
/// <param name="CompletedAt">When it ended.</param>
public sealed record ExecutionSummary(string Id, string WorkflowId, int Version, string Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

/// <summary>Newest-first lists of top-level runs, per workspace and per workflow.</summary>
public sealed class ExecutionIndex(IEntityStore store)
{
    private const string ByWorkspace = "executionsbyworkspace";
    private const string ByWorkflow = "executionsbyworkflow";

    internal async Task AddAsync(ExecutionDocument run, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(Summary(run), ExecutionStore.Json);
        await store.UpsertAsync(ByWorkspace, run.WorkspaceId, Key(run), json, cancellationToken);
        await store.UpsertAsync(ByWorkflow, run.WorkflowId, Key(run), json, cancellationToken);
    }

    /// <summary>Records the end of a run in the workspace list; the per-workflow list only locates runs (readers ask the run for its status).</summary>
    internal Task UpdateAsync(ExecutionDocument run, CancellationToken cancellationToken) =>
        store.UpsertAsync(ByWorkspace, run.WorkspaceId, Key(run), JsonSerializer.Serialize(Summary(run), ExecutionStore.Json), cancellationToken);

    /// <summary>The workspace's runs, newest first, page by page.</summary>
    public Task<EntityPage> ListByWorkspaceAsync(string workspaceId, string? continuation, int take, CancellationToken cancellationToken) =>
        store.QueryAsync(ByWorkspace, new EntityQuery { PartitionKey = workspaceId, ContinuationToken = continuation, Take = take }, cancellationToken);

    /// <summary>The newest run of a workflow, or null.</summary>
    public async Task<ExecutionSummary?> LatestAsync(string workflowId, CancellationToken cancellationToken)
    {
        if (!StoreKeys.IsValidKey(workflowId))
        {
            return null;
        }

        var page = await store.QueryAsync(ByWorkflow, new EntityQuery { PartitionKey = workflowId, Take = 1 }, cancellationToken);
        return page.Items.Count == 0 ? null : Read(page.Items[0]);
    }

    /// <summary>Reads one index row.</summary>
    public static ExecutionSummary Read(Entity entity) => JsonSerializer.Deserialize<ExecutionSummary>(entity.Json, ExecutionStore.Json)!;

    private static ExecutionSummary Summary(ExecutionDocument run) =>
        new(run.Id, run.WorkflowId, run.Version, run.Status, run.CreatedAt, run.CompletedAt);

    // Newest first: row keys sort ascending, so the key counts down with time.
    private static string Key(ExecutionDocument run) =>
        (long.MaxValue - run.CreatedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + run.Id;
}
