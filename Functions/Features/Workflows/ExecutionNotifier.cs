using System.Collections.Concurrent;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

/// <summary>
/// In-process news of committed run changes: wakes callers waiting on a run (POST /run, SSE streams) at once and
/// feeds WebSocket subscribers. Waiters also poll, so a run advanced by another instance is seen too.
/// </summary>
internal sealed class ExecutionNotifier : IExecutionObserver
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);

    /// <summary>Raised after every commit; handlers must be quick and must not throw.</summary>
    public event Action<ExecutionDocument, IReadOnlyList<ExecutionEvent>>? Committed;

    /// <summary>A task that completes at the next commit of the run. Take it before reading the run, then await it.</summary>
    public Task NextChange(string executionId) =>
        _signals.GetOrAdd(executionId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void OnCommitted(ExecutionDocument document, IReadOnlyList<ExecutionEvent> events)
    {
        if (_signals.TryRemove(document.Id, out var signal))
        {
            signal.TrySetResult();
        }

        Committed?.Invoke(document, events);
    }

    /// <summary>The run once it is terminal, or its latest state when <paramref name="timeout"/> passes first.</summary>
    public async Task<ExecutionDocument?> WaitForEndAsync(WorkflowRuns runs, string executionId, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var changed = NextChange(executionId);
            var run = (await runs.Store.LoadAsync(executionId, cancellationToken))?.Document;
            var left = deadline - time.GetUtcNow();
            if (run is null || ExecutionStatus.IsTerminal(run.Status) || left <= TimeSpan.Zero)
            {
                return run;
            }

            // Poll at least twice a second for runs advanced by another instance.
            await Task.WhenAny(changed, Task.Delay(left < TimeSpan.FromMilliseconds(500) ? left : TimeSpan.FromMilliseconds(500), time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }
}
