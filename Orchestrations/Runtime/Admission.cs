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

    private readonly Lane[] _lanes = [.. Enumerable.Range(0, 16).Select(_ => new Lane())];

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

    private Task UpdateAsync(string workspaceId, Func<Slots, bool> change, CancellationToken cancellationToken)
    {
        // One document per workspace takes every run's start and end. The changes that arrive while a write is under
        // way are applied together to one read of the document and stored in one write (group commit): a storm of
        // starts and ends costs a read and a write per batch, not per run. Other processes still meet the ETag.
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingChange(workspaceId, change);
        var lane = _lanes[(uint)StringComparer.Ordinal.GetHashCode(workspaceId) % (uint)_lanes.Length];
        bool drain;
        lock (lane)
        {
            lane.Queue.Add(pending);
            drain = !lane.Draining;
            lane.Draining = true;
        }

        if (drain)
        {
            _ = Task.Run(() => DrainAsync(lane), CancellationToken.None);
        }

        return pending.Done.Task;
    }

    private async Task DrainAsync(Lane lane)
    {
        while (true)
        {
            List<PendingChange> batch;
            lock (lane)
            {
                if (lane.Queue.Count == 0)
                {
                    lane.Draining = false;
                    return;
                }

                batch = lane.Queue;
                lane.Queue = [];
            }

            foreach (var workspace in batch.GroupBy(p => p.WorkspaceId, StringComparer.Ordinal))
            {
                var changes = workspace.ToList();
                try
                {
                    await ApplyAsync(workspace.Key, changes);
                    changes.ForEach(p => p.Done.TrySetResult());
                }
                catch (Exception e)
                {
                    changes.ForEach(p => p.Done.TrySetException(e));
                }
            }
        }
    }

    /// <summary>Applies the changes in arrival order to one read of the document; one write when any changed it, read again on a lost race.</summary>
    private async Task ApplyAsync(string workspaceId, List<PendingChange> changes)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var (slots, etag) = await ReadAsync(workspaceId, CancellationToken.None);
            var changed = false;
            foreach (var pending in changes)
            {
                changed |= pending.Change(slots);
            }

            if (!changed)
            {
                return;
            }

            var json = JsonSerializer.Serialize(slots, ExecutionStore.Json);
            var result = etag is null
                ? await store.InsertAsync(Table, workspaceId, Row, json, CancellationToken.None)
                : await store.ReplaceAsync(Table, workspaceId, Row, json, etag, CancellationToken.None);
            if (result.Succeeded)
            {
                return;
            }
        }

        throw new InvalidOperationException($"The slots of workspace {workspaceId} kept changing under 50 attempts to update them.");
    }

    /// <summary>A change waiting for its lane's next write; its callback runs again on every re-read, so it sets all it reports each time.</summary>
    private sealed record PendingChange(string WorkspaceId, Func<Slots, bool> Change)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The changes waiting for one stripe of workspaces, and whether a writer is draining them.</summary>
    private sealed class Lane
    {
        public List<PendingChange> Queue { get; set; } = [];

        public bool Draining { get; set; }
    }
}
