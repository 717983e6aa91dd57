using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Serverless.Orchestrations.Runtime;

/// <summary>
/// Writes a run's document and event log, the view the API reads. The orchestration owns the run's state and sends it
/// here in checkpoints; nodes add progress events while they run; the API stops and retries runs. Every write is one
/// commit under the document's ETag that gives the events it adds their place in the log, so readers see one order.
/// </summary>
public sealed class RunProjection
{
    private readonly ExecutionStore _store;
    private readonly IExecutionObserver[] _observers;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<string, long> _flushedThrough = new(StringComparer.Ordinal);

    /// <summary>Creates the projection over the run store.</summary>
    public RunProjection(ExecutionStore store, IEnumerable<IExecutionObserver> observers, TimeProvider clock)
    {
        _store = store;
        _observers = [.. observers];
        _clock = clock;
    }

    /// <summary>
    /// Applies a checkpoint: events the log does not have yet, node states newer than the stored ones, and the run's
    /// fields when the checkpoint is newer than the last applied. Nothing changes once the run ended (it was stopped)
    /// or when the checkpoint belongs to an earlier generation of a retried run. Returns the stored run afterwards.
    /// </summary>
    public async Task<ExecutionDocument?> ApplyAsync(string executionId, RunCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        var result = await TransactAsync(executionId, (doc, now) =>
        {
            if (doc.Retries != checkpoint.Generation || ExecutionStatus.IsTerminal(doc.Status))
            {
                return false;
            }

            var changed = false;
            foreach (var e in checkpoint.Events.Where(e => e.Seq > doc.OrchestratorSeq))
            {
                doc.EventSeq++;
                doc.PendingEvents.Add(e with { Seq = doc.EventSeq });
                doc.OrchestratorSeq = e.Seq;
                changed = true;
            }

            foreach (var (id, state) in checkpoint.Nodes)
            {
                if (!doc.Nodes.TryGetValue(id, out var stored) || state.Revision > stored.Revision)
                {
                    doc.Nodes[id] = state;
                    changed = true;
                }
            }

            if (checkpoint.Version > doc.Checkpoint)
            {
                doc.Checkpoint = checkpoint.Version;
                doc.Status = checkpoint.Status;
                doc.Outputs = checkpoint.Outputs;
                doc.Error = checkpoint.Error;
                doc.StartedAt = checkpoint.StartedAt;
                doc.CompletedAt = checkpoint.CompletedAt;
                changed = true;
            }

            return changed;
        }, cancellationToken);
        return result.Run;
    }

    /// <summary>
    /// Appends a progress event of a running node attempt. Only the attempt that holds the node in the current
    /// generation of a live run may report; a late or duplicate attempt writes nothing and gets false.
    /// </summary>
    public async Task<bool> EmitProgressAsync(string executionId, int generation, string nodeId, int attempt, string type, JsonObject? data, CancellationToken cancellationToken)
    {
        var result = await TransactAsync(executionId, (doc, now) =>
        {
            var state = doc.Nodes.GetValueOrDefault(nodeId);
            if (doc.Retries != generation || ExecutionStatus.IsTerminal(doc.Status) || state is not { Status: NodeStatus.Running } || state.Attempts != attempt)
            {
                return false;
            }

            var payload = data?.DeepClone().AsObject() ?? [];
            payload["attempt"] = attempt;
            doc.EventSeq++;
            doc.PendingEvents.Add(new ExecutionEvent(doc.EventSeq, type, nodeId, payload, now));
            return true;
        }, cancellationToken);
        return result.Committed;
    }

    /// <summary>Changes the stored run directly (stop and retry from the API); <paramref name="change"/> returns false to leave it.</summary>
    public Task<(ExecutionDocument? Run, bool Committed)> ChangeAsync(string executionId, Func<ExecutionDocument, DateTimeOffset, bool> change, CancellationToken cancellationToken) =>
        TransactAsync(executionId, change, cancellationToken);

    /// <summary>Stores a new run and tells observers.</summary>
    internal async Task InsertAsync(ExecutionDocument run, CancellationToken cancellationToken)
    {
        await _store.InsertAsync(run, cancellationToken);
        Notify(run, []);
    }

    /// <summary>
    /// Read, change, commit under the run's ETag; on a lost race, do it all again on the newer document. The stripe
    /// lock keeps this process's own writers from racing each other.
    /// </summary>
    private async Task<(ExecutionDocument? Run, bool Committed)> TransactAsync(
        string executionId, Func<ExecutionDocument, DateTimeOffset, bool> change, CancellationToken cancellationToken)
    {
        var gate = _locks[(uint)StringComparer.Ordinal.GetHashCode(executionId) % (uint)_locks.Length];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            ExecutionDocument doc;
            List<ExecutionEvent> events;
            await gate.WaitAsync(cancellationToken);
            try
            {
                var loaded = await _store.LoadAsync(executionId, cancellationToken);
                if (loaded is null)
                {
                    return (null, false);
                }

                doc = loaded.Document;
                await FlushPendingEventsAsync(doc, cancellationToken);
                doc.PendingEvents = [];
                var now = _clock.GetUtcNow();
                if (!change(doc, now))
                {
                    return (doc, false);
                }

                doc.UpdatedAt = now;
                if (await _store.ReplaceAsync(doc, loaded.ETag, CancellationToken.None) is null)
                {
                    continue;
                }

                // Still under the lock, so this process writes the log in commit order: a reader never sees a later
                // commit's events before an earlier one's. Not cancellable: the commit happened.
                events = [.. doc.PendingEvents];
                if (events.Count > 0)
                {
                    await _store.AppendEventsAsync(doc.Id, events, CancellationToken.None);
                    _flushedThrough[doc.Id] = events[^1].Seq;
                }
            }
            finally
            {
                gate.Release();
            }

            if (ExecutionStatus.IsTerminal(doc.Status))
            {
                _flushedThrough.TryRemove(doc.Id, out _);
            }

            Notify(doc, events);
            return (doc, true);
        }

        throw new InvalidOperationException($"Run {executionId} kept changing under 50 attempts to update it.");
    }

    private async Task FlushPendingEventsAsync(ExecutionDocument doc, CancellationToken cancellationToken)
    {
        if (doc.PendingEvents.Count > 0 && _flushedThrough.GetValueOrDefault(doc.Id) < doc.PendingEvents[^1].Seq)
        {
            // The commit that carried these events may have died before writing them to the log.
            await _store.AppendEventsAsync(doc.Id, doc.PendingEvents, cancellationToken);
        }
    }

    private void Notify(ExecutionDocument run, IReadOnlyList<ExecutionEvent> events)
    {
        foreach (var observer in _observers)
        {
            observer.OnCommitted(run, events);
        }
    }
}
