using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Scheduling;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Processes;

internal static class ProcessTriggers
{
    public const string Manual = "manual";
    public const string TimeBased = "time_based";
    public const string EventBased = "event_based";

    public static readonly string[] All = [Manual, TimeBased, EventBased];
}

/// <summary>Which platform events start an event-based process: the event's type, and equalities on its data (dotted paths).</summary>
internal sealed record EventMatch(string Name, JsonObject? Filter);

/// <summary>What a process does: run this workflow of its workspace with these inputs.</summary>
internal sealed record ProcessAction(string WorkflowId, JsonObject Inputs);

/// <summary>
/// A Behflow automated process: a workflow run started by hand, on a cron schedule in a time zone, or by a platform
/// event. Time-based processes keep their next slot (UTC) in <see cref="NextRun"/>.
/// </summary>
internal sealed record ProcessRecord(
    string Id,
    string WorkspaceId,
    string Name,
    string Description,
    string TriggerType,
    string? Schedule,
    string Timezone,
    EventMatch? Event,
    ProcessAction Action,
    bool IsActive,
    DateTimeOffset? NextRun,
    DateTimeOffset? LastExecution,
    string? LastExecutionId,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>One start of a process: the run it started (<see cref="RunId"/>), or why none started.</summary>
internal sealed record ProcessExecutionRecord(
    string Id,
    string ProcessId,
    string? RunId,
    string Source,
    string Status,
    string Message,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    string? EventId,
    DateTimeOffset? Slot);

/// <summary>A time-based process that is due at the time its row key spells.</summary>
internal sealed record DueProcess(string WorkspaceId, string ProcessId);

/// <summary>
/// The processes (partition = workspace, listed through their index, which also finds the active event-based ones
/// by event name), their executions (partition = process, newest first), the due index of time-based ones (one "due"
/// partition, read up to now by the timer) and the claims that make each slot and each event start one run. The
/// process row is the truth: a due row that disagrees with it is stale and is dropped when found.
/// </summary>
internal sealed class ProcessStore(IEntityStore store, Expirations expirations)
{
    public const int MaxPerWorkspace = 200;
    private static readonly TimeSpan ClaimsKept = TimeSpan.FromDays(7);

    public static readonly ListIndex<ProcessRecord> Index = new(
        version: 1,
        p => p.Id,
        new Dictionary<string, Func<ProcessRecord, string>>
        {
            ["createdAt"] = p => p.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = p => p.Name.ToLowerInvariant(),
        },
        new Dictionary<string, Func<ProcessRecord, string?>>
        {
            ["triggerType"] = p => p.TriggerType,
            ["event"] = p => p is { TriggerType: ProcessTriggers.EventBased, IsActive: true, Event: { } match } ? match.Name : null,
        });

    public static readonly ListIndex<ProcessExecutionRecord> ExecutionIndex = new(
        version: 1,
        e => e.Id,
        new Dictionary<string, Func<ProcessExecutionRecord, string>> { ["startedAt"] = e => e.StartedAt.UtcDateTime.ToString("O") });

    private readonly IndexedTable<ProcessRecord> _processes = new(store, "processes", Index, EntityTable<ProcessRecord>.Json);
    private readonly IndexedTable<ProcessExecutionRecord> _executions = new(store, "processexecutions", ExecutionIndex, EntityTable<ProcessExecutionRecord>.Json);
    private readonly DueIndex<DueProcess> _due = new(store, "processesdue");
    private readonly OnceClaims _claims = new(store, expirations, "processclaims");

    public IndexedList<ProcessRecord> List => new(_processes, "createdAt", DefaultDescending: true,
        Matches: (p, s) => p.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || p.Description.Contains(s, StringComparison.OrdinalIgnoreCase));

    public IndexedList<ProcessExecutionRecord> Executions => new(_executions, "startedAt", DefaultDescending: true);

    public async Task<ProcessRecord?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(id) ? (await _processes.GetAsync(workspaceId, id, cancellationToken))?.Value : null;

    public async Task<int> CountAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await _processes.ListAsync(workspaceId, new IndexQuery<ProcessRecord> { Order = "createdAt", Limit = MaxPerWorkspace + 1 }, cancellationToken)).Items.Count;

    /// <summary>Stores the process, then the due row that finds it (a crash in between leaves a process that never fires, never a stray firing).</summary>
    public async Task CreateAsync(ProcessRecord process, CancellationToken cancellationToken)
    {
        await _processes.InsertAsync(process.WorkspaceId, process, cancellationToken);
        await IndexDueAsync(process, cancellationToken);
    }

    /// <summary>
    /// Applies <paramref name="change"/> under optimistic concurrency (null: leave the process as it is, and answer
    /// null). When the next run moves, the new due row is written before the process and the old one dropped after,
    /// so a crash part-way leaves a stale row (dropped when found), never a schedule nothing finds.
    /// </summary>
    public async Task<ProcessRecord?> UpdateAsync(string workspaceId, string id, Func<ProcessRecord, ProcessRecord?> change, CancellationToken cancellationToken)
    {
        while (StoreKeys.IsValidKey(id) && await _processes.GetAsync(workspaceId, id, cancellationToken) is { } stored)
        {
            if (change(stored.Value) is not { } updated)
            {
                return null;
            }

            var moved = updated.NextRun != stored.Value.NextRun;
            if (moved)
            {
                await IndexDueAsync(updated, cancellationToken);
            }

            if ((await _processes.ReplaceAsync(workspaceId, stored, updated, cancellationToken)).Succeeded)
            {
                if (moved)
                {
                    await DropDueAsync(stored.Value, cancellationToken);
                }

                return updated;
            }
        }

        return null;
    }

    public async Task<bool> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        if (await GetAsync(workspaceId, id, cancellationToken) is not { } process
            || !(await _processes.DeleteAsync(workspaceId, id, null, cancellationToken)).Succeeded)
        {
            return false;
        }

        await DropDueAsync(process, cancellationToken);
        return true;
    }

    /// <summary>The active event-based processes of the workspace that listen for <paramref name="eventName"/>.</summary>
    public async Task<IReadOnlyList<ProcessRecord>> ListeningAsync(string workspaceId, string eventName, CancellationToken cancellationToken)
    {
        var found = new List<ProcessRecord>();
        string? after = null;
        do
        {
            var page = await _processes.ListAsync(workspaceId, new IndexQuery<ProcessRecord>
            {
                Order = "createdAt",
                Limit = 100,
                Filter = ("event", eventName),
                After = after,
            }, cancellationToken);
            found.AddRange(page.Items.Where(p => p is { TriggerType: ProcessTriggers.EventBased, IsActive: true } && p.Event?.Name == eventName));
            after = page.Next;
        }
        while (after is not null);

        return found;
    }

    public Task SaveExecutionAsync(ProcessExecutionRecord execution, CancellationToken cancellationToken) =>
        _executions.UpsertAsync(execution.ProcessId, execution, cancellationToken);

    /// <summary>Due rows at or before <paramref name="now"/>, oldest first.</summary>
    public Task<IReadOnlyList<(DateTimeOffset DueAt, DueProcess Value)>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) =>
        _due.UpToAsync(now, max, cancellationToken);

    public Task DropDueAsync(DateTimeOffset dueAt, string processId, CancellationToken cancellationToken) =>
        _due.DropAsync(dueAt, processId, cancellationToken);

    /// <summary>Takes the slot at <paramref name="slot"/>: false when another instance (or an earlier tick) already took it.</summary>
    public Task<bool> ClaimSlotAsync(string processId, DateTimeOffset slot, CancellationToken cancellationToken) =>
        _claims.ClaimAsync(processId, OnceClaims.Slot(slot), slot + ClaimsKept, cancellationToken);

    /// <summary>Takes the platform event: false when a delivery before this one already started the process for it.</summary>
    public Task<bool> ClaimEventAsync(string processId, string eventId, DateTimeOffset now, CancellationToken cancellationToken) =>
        _claims.ClaimAsync(processId, "event_" + Platform.Security.Secrets.Hash(eventId), now + ClaimsKept, cancellationToken);

    private async Task IndexDueAsync(ProcessRecord process, CancellationToken cancellationToken)
    {
        if (process.NextRun is { } next)
        {
            await _due.AddAsync(next, process.Id, new DueProcess(process.WorkspaceId, process.Id), cancellationToken);
        }
    }

    private async Task DropDueAsync(ProcessRecord process, CancellationToken cancellationToken)
    {
        if (process.NextRun is { } next)
        {
            await DropDueAsync(next, process.Id, cancellationToken);
        }
    }
}
