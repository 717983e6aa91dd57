using System.Text.Json;
using Serverless.Orchestrations.Ports;

namespace Serverless.Orchestrations.Runtime;

/// <summary>
/// The per-workspace cap on running top-level runs. One small document per workspace lists the runs holding a
/// slot and those waiting for one; it doubles as the sweep's list of active runs.
/// </summary>
internal sealed class Admission(IEntityStore store, EngineOptions options)
{
    private const string Table = "executionslots";
    private const string Row = "slots";

    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, 16).Select(_ => new SemaphoreSlim(1, 1))];

    internal sealed record Slots(List<string> Running, List<string> Waiting);

    /// <summary>
    /// Takes a slot for a new run when one is free, else puts it in line, unless the line is full (the hard
    /// admission cap). From here on the run is on the sweep's list, even if its orchestration was never started.
    /// </summary>
    /// <returns>True: it holds a slot; false: it waits in line; null: refused.</returns>
    public async Task<bool?> TryEnqueueAsync(string workspaceId, string executionId, CancellationToken cancellationToken)
    {
        bool? outcome = null;
        await UpdateAsync(workspaceId, slots =>
        {
            if (slots.Running.Contains(executionId) || slots.Waiting.Contains(executionId))
            {
                outcome = slots.Running.Contains(executionId);
                return false;
            }

            if (slots.Running.Count < options.MaxRunningPerWorkspace && slots.Waiting.Count == 0)
            {
                slots.Running.Add(executionId);
                outcome = true;
                return true;
            }

            if (slots.Waiting.Count >= options.MaxQueuedPerWorkspace)
            {
                outcome = null;
                return false;
            }

            slots.Waiting.Add(executionId);
            outcome = false;
            return true;
        }, cancellationToken);
        return outcome;
    }

    /// <summary>Takes a slot for the run, or puts it in line; true when it may start now. <paramref name="force"/> takes one even over the cap (an explicit retry).</summary>
    public async Task<bool> AdmitAsync(string workspaceId, string executionId, bool force, CancellationToken cancellationToken)
    {
        var admitted = false;
        await UpdateAsync(workspaceId, slots =>
        {
            if (slots.Running.Contains(executionId))
            {
                admitted = true;
                return false;
            }

            if (force || slots.Running.Count < options.MaxRunningPerWorkspace)
            {
                slots.Waiting.Remove(executionId);
                slots.Running.Add(executionId);
                admitted = true;
                return true;
            }

            admitted = false;
            if (slots.Waiting.Contains(executionId))
            {
                return false;
            }

            slots.Waiting.Add(executionId);
            return true;
        }, cancellationToken);
        return admitted;
    }

    /// <summary>Frees the run's slot (or place in line); returns the runs that now hold a slot and must be started.</summary>
    public async Task<IReadOnlyList<string>> ReleaseAsync(string workspaceId, string executionId, CancellationToken cancellationToken)
    {
        List<string> promoted = [];
        await UpdateAsync(workspaceId, slots =>
        {
            promoted = [];
            var changed = slots.Running.Remove(executionId) | slots.Waiting.Remove(executionId);
            while (slots.Running.Count < options.MaxRunningPerWorkspace && slots.Waiting.Count > 0)
            {
                var next = slots.Waiting[0];
                slots.Waiting.RemoveAt(0);
                slots.Running.Add(next);
                promoted.Add(next);
                changed = true;
            }

            return changed;
        }, cancellationToken);
        return promoted;
    }

    /// <summary>The runs of one workspace that hold a slot or wait for one.</summary>
    public async Task<IReadOnlyList<string>> ActiveAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var (slots, _) = await ReadAsync(workspaceId, cancellationToken);
        return [.. slots.Running, .. slots.Waiting];
    }

    /// <summary>Every workspace's slots, for the sweep.</summary>
    public async Task<List<(string WorkspaceId, Slots Slots)>> ListAllAsync(CancellationToken cancellationToken)
    {
        var all = new List<(string, Slots)>();
        string? token = null;
        do
        {
            var page = await store.QueryAsync(Table, new EntityQuery { ContinuationToken = token, Take = EntityQuery.MaxTake }, cancellationToken);
            all.AddRange(page.Items.Select(e => (e.PartitionKey, JsonSerializer.Deserialize<Slots>(e.Json, ExecutionStore.Json)!)));
            token = page.ContinuationToken;
        }
        while (token is not null);
        return all;
    }

    private async Task<(Slots Value, string? ETag)> ReadAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var entity = await store.GetAsync(Table, workspaceId, Row, cancellationToken);
        return entity is null ? (new Slots([], []), null) : (JsonSerializer.Deserialize<Slots>(entity.Json, ExecutionStore.Json)!, entity.ETag);
    }

    private async Task UpdateAsync(string workspaceId, Func<Slots, bool> change, CancellationToken cancellationToken)
    {
        // One document per workspace takes every run's start and end: serialising this process's writers to it
        // turns a storm of lost optimistic races into a short queue. Other processes still meet the ETag.
        var gate = _locks[(uint)StringComparer.Ordinal.GetHashCode(workspaceId) % (uint)_locks.Length];
        await gate.WaitAsync(cancellationToken);
        try
        {
            await UpdateUnderLockAsync(workspaceId, change, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task UpdateUnderLockAsync(string workspaceId, Func<Slots, bool> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var (slots, etag) = await ReadAsync(workspaceId, cancellationToken);
            if (!change(slots))
            {
                return;
            }

            var json = JsonSerializer.Serialize(slots, ExecutionStore.Json);
            var result = etag is null
                ? await store.InsertAsync(Table, workspaceId, Row, json, cancellationToken)
                : await store.ReplaceAsync(Table, workspaceId, Row, json, etag, cancellationToken);
            if (result.Succeeded)
            {
                return;
            }
        }

        throw new InvalidOperationException($"The slots of workspace {workspaceId} kept changing under 50 attempts to update them.");
    }
}
