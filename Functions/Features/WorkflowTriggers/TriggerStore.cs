using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Scheduling;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.WorkflowTriggers;

internal static class TriggerTypes
{
    public const string Schedule = "schedule";
    public const string Webhook = "webhook";
    public const string Immediately = "immediately";
    public const string WhenFinished = "when_finished";
}

/// <summary>
/// A trigger of a workflow. Schedules keep their next slot (UTC); webhooks keep only the SHA-256 of their URL token
/// and, when signed, their signing secret sealed by the secret protector.
/// </summary>
internal sealed record TriggerRecord(
    string Id,
    string WorkspaceId,
    string WorkflowId,
    string Type,
    bool Active,
    JsonObject Inputs,
    string? Cron,
    string? Timezone,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    string? LastExecutionId,
    string? Respond,
    string? TokenHash,
    string? UrlHint,
    string? SealedSecret,
    string CreatedBy,
    DateTimeOffset CreatedAt);

/// <summary>Where a webhook token leads (keyed by the token's hash).</summary>
internal sealed record HookPointer(string WorkflowId, string TriggerId);

/// <summary>A schedule trigger that is due at the time its row key spells.</summary>
internal sealed record DueTrigger(string WorkflowId, string TriggerId);

/// <summary>
/// The triggers (partition = workflow id), and the two indexes that find them without a scan: webhook tokens by hash,
/// and schedules by their next slot in one "due" partition, which the timer reads up to now. The trigger row is the
/// truth: an index row that disagrees with it is stale and is skipped (and removed when found).
/// </summary>
internal sealed class TriggerStore(IEntityStore store, Expirations expirations)
{
    public const int MaxPerWorkflow = 20;
    private const string HookRow = "hook";
    private static readonly TimeSpan ClaimsKept = TimeSpan.FromDays(7);

    private readonly EntityTable<TriggerRecord> _triggers = new(store, "workflowtriggers");
    private readonly EntityTable<HookPointer> _hooks = new(store, "workflowtriggerhooks");
    private readonly DueIndex<DueTrigger> _due = new(store, "workflowtriggersdue");
    private readonly OnceClaims _claims = new(store, expirations, "workflowtriggerclaims");

    public async Task<IReadOnlyList<TriggerRecord>> ListAsync(string workspaceId, string workflowId, CancellationToken cancellationToken)
    {
        var found = new List<TriggerRecord>();
        await foreach (var row in _triggers.QueryAllAsync(new EntityQuery { PartitionKey = workflowId, Take = MaxPerWorkflow + 1 }, cancellationToken))
        {
            if (row.Value.WorkspaceId == workspaceId)
            {
                found.Add(row.Value);
            }
        }

        return [.. found.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal)];
    }

    public async Task<TriggerRecord?> GetAsync(string workflowId, string triggerId, CancellationToken cancellationToken) =>
        (await _triggers.FindAsync(workflowId, triggerId, cancellationToken))?.Value;

    /// <summary>Stores the trigger, then the index row that finds it (a crash in between leaves a trigger that never fires, never a stray firing).</summary>
    public async Task CreateAsync(TriggerRecord trigger, CancellationToken cancellationToken)
    {
        await _triggers.InsertAsync(trigger.WorkflowId, trigger.Id, trigger, cancellationToken);
        if (trigger.TokenHash is { } hash)
        {
            await _hooks.InsertAsync(hash, HookRow, new HookPointer(trigger.WorkflowId, trigger.Id), cancellationToken);
        }

        if (trigger is { Active: true, NextRunAt: { } next })
        {
            await _due.AddAsync(next, trigger.Id, new DueTrigger(trigger.WorkflowId, trigger.Id), cancellationToken);
        }
    }

    public async Task<bool> DeleteAsync(string workspaceId, string workflowId, string triggerId, CancellationToken cancellationToken)
    {
        if (await _triggers.FindAsync(workflowId, triggerId, cancellationToken) is not { } stored || stored.Value.WorkspaceId != workspaceId)
        {
            return false;
        }

        if (!(await _triggers.DeleteAsync(workflowId, triggerId, stored.ETag, cancellationToken)).Succeeded)
        {
            return false;
        }

        var trigger = stored.Value;
        if (trigger.TokenHash is { } hash)
        {
            await _hooks.DeleteAsync(hash, HookRow, null, cancellationToken);
        }

        if (trigger.NextRunAt is { } next)
        {
            await _due.DropAsync(next, trigger.Id, cancellationToken);
        }

        return true;
    }

    /// <summary>The active webhook trigger whose URL token this is, or null.</summary>
    public async Task<TriggerRecord?> FindHookAsync(string token, CancellationToken cancellationToken)
    {
        var hash = Platform.Security.Secrets.Hash(token);
        if (await _hooks.FindAsync(hash, HookRow, cancellationToken) is not { } pointer
            || await GetAsync(pointer.Value.WorkflowId, pointer.Value.TriggerId, cancellationToken) is not { } trigger)
        {
            return null;
        }

        return trigger is { Active: true, Type: TriggerTypes.Webhook } && trigger.TokenHash == hash ? trigger : null;
    }

    /// <summary>Schedule index rows due at or before <paramref name="now"/>, oldest first.</summary>
    public Task<IReadOnlyList<(DateTimeOffset DueAt, DueTrigger Value)>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken) =>
        _due.UpToAsync(now, max, cancellationToken);

    public Task DropDueAsync(DateTimeOffset dueAt, string triggerId, CancellationToken cancellationToken) =>
        _due.DropAsync(dueAt, triggerId, cancellationToken);

    /// <summary>Takes the slot for this instance: false when another instance (or an earlier tick) already took it.</summary>
    public Task<bool> ClaimAsync(string triggerId, DateTimeOffset slot, CancellationToken cancellationToken) =>
        _claims.ClaimAsync(triggerId, OnceClaims.Slot(slot), slot + ClaimsKept, cancellationToken);

    /// <summary>
    /// Moves a schedule from <paramref name="dueAt"/> to <paramref name="next"/> (null: it never fires again). The new
    /// index row is written first, so a crash part-way leaves the old row, which the next tick finds again.
    /// </summary>
    public async Task AdvanceAsync(TriggerRecord trigger, DateTimeOffset dueAt, DateTimeOffset slot, DateTimeOffset? next, string? executionId, CancellationToken cancellationToken)
    {
        if (next is { } upcoming)
        {
            await _due.AddAsync(upcoming, trigger.Id, new DueTrigger(trigger.WorkflowId, trigger.Id), cancellationToken);
        }

        await _triggers.UpdateAsync(trigger.WorkflowId, trigger.Id, t => t.NextRunAt == dueAt
            ? t with { NextRunAt = next, LastRunAt = slot, LastExecutionId = executionId ?? t.LastExecutionId }
            : null, cancellationToken);
        await DropDueAsync(dueAt, trigger.Id, cancellationToken);
    }
}
