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

/// <summary>
/// Lists of top-level runs per workspace (one summary row per run beside its index rows: newest or oldest first by
/// creation or completion, narrowed by status or workflow in the store), and the newest run per workflow.
/// </summary>
/// <remarks>
/// The summary is written when a run is accepted, when it ends and when it is retried; in between, a run's status in
/// the list is <c>active</c> and readers ask the run itself.
/// </remarks>
public sealed class ExecutionIndex
{
    /// <summary>The status filter value of every run that has not ended.</summary>
    public const string Active = "active";

    private const string ByWorkspace = "executionsbyworkspace";
    private const string ByWorkflow = "executionsbyworkflow";

    /// <summary>The orders and filters runs are listed by.</summary>
    public static readonly ListIndex<ExecutionSummary> Definition = new(
        version: 1,
        e => e.Id,
        new Dictionary<string, Func<ExecutionSummary, string>>
        {
            ["createdAt"] = e => SortKey(e.CreatedAt),
            ["completedAt"] = e => e.CompletedAt is { } completed ? SortKey(completed) : "",
        },
        new Dictionary<string, Func<ExecutionSummary, string?>>
        {
            ["status"] = e => StatusKey(e.Status),
            ["workflow"] = e => e.WorkflowId,
        });

    private readonly IEntityStore _store;

    /// <summary>Creates the index over <paramref name="store"/>.</summary>
    public ExecutionIndex(IEntityStore store)
    {
        _store = store;
        // Rows of the first release were keyed newest-first by time, not by run id; they move on first list.
        Runs = new IndexedTable<ExecutionSummary>(store, ByWorkspace, Definition, ExecutionStore.Json, Legacy);
    }

    /// <summary>The workspace lists: partition = workspace id.</summary>
    public IndexedTable<ExecutionSummary> Runs { get; }

    /// <summary>The sort key of a timestamp (ordinal order is time order).</summary>
    public static string SortKey(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>The status filter value of a status: itself once the run ended, else <see cref="Active"/>.</summary>
    public static string StatusKey(string status) => ExecutionStatus.IsTerminal(status) ? status : Active;

    internal async Task AddAsync(ExecutionDocument run, CancellationToken cancellationToken)
    {
        await Runs.UpsertAsync(run.WorkspaceId, Summary(run), cancellationToken);
        await _store.UpsertAsync(ByWorkflow, run.WorkflowId, Key(run), JsonSerializer.Serialize(Summary(run), ExecutionStore.Json), cancellationToken);
    }

    /// <summary>Records a run's new state in the workspace list; the per-workflow list only locates runs (readers ask the run for its status).</summary>
    internal Task UpdateAsync(ExecutionDocument run, CancellationToken cancellationToken) =>
        Runs.UpsertAsync(run.WorkspaceId, Summary(run), cancellationToken);

    /// <summary>The newest run of a workflow, or null.</summary>
    public async Task<ExecutionSummary?> LatestAsync(string workflowId, CancellationToken cancellationToken)
    {
        if (!StoreKeys.IsValidKey(workflowId))
        {
            return null;
        }

        var page = await _store.QueryAsync(ByWorkflow, new EntityQuery { PartitionKey = workflowId, Take = 1 }, cancellationToken);
        return page.Items.Count == 0 ? null : Read(page.Items[0]);
    }

    private static ExecutionSummary Read(Entity entity) => JsonSerializer.Deserialize<ExecutionSummary>(entity.Json, ExecutionStore.Json)!;

    private static ExecutionSummary? Legacy(Entity entity) => Read(entity);

    private static ExecutionSummary Summary(ExecutionDocument run) =>
        new(run.Id, run.WorkflowId, run.Version, run.Status, run.CreatedAt, run.CompletedAt);

    // Newest first: row keys sort ascending, so the key counts down with time.
    private static string Key(ExecutionDocument run) =>
        (long.MaxValue - run.CreatedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + run.Id;
}
