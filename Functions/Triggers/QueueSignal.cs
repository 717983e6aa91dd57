using System.Collections.Concurrent;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Triggers;

/// <summary>
/// Wakes this process's queue pumps the moment something is enqueued here, so a step handed from one node to
/// the next does not wait out a polling interval. Messages from other processes are still found by polling.
/// </summary>
internal sealed class QueueSignal
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    public void Notify(string queue)
    {
        if (_waiters.TryRemove(queue, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Returns when <paramref name="queue"/> gets a message or <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(string queue, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var waiter = _waiters.GetOrAdd(queue, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        await Task.WhenAny(waiter.Task, Task.Delay(timeout, time, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
    }
}

/// <summary>Any work-queue adapter, plus the in-process signal on enqueue.</summary>
internal sealed class SignalingWorkQueue(IWorkQueue inner, QueueSignal signal) : IWorkQueue
{
    public async Task<string> EnqueueAsync(string queue, string message, TimeSpan? delay, CancellationToken cancellationToken)
    {
        var id = await inner.EnqueueAsync(queue, message, delay, cancellationToken);
        if (delay is null || delay <= TimeSpan.Zero)
        {
            signal.Notify(queue);
        }

        return id;
    }

    public Task<IReadOnlyList<QueueMessage>> DequeueAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken) =>
        inner.DequeueAsync(queue, maxMessages, visibilityTimeout, cancellationToken);

    public Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken) =>
        inner.DeleteAsync(queue, messageId, popReceipt, cancellationToken);

    public async Task<string?> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        var receipt = await inner.UpdateVisibilityAsync(queue, messageId, popReceipt, visibilityTimeout, cancellationToken);
        if (visibilityTimeout <= TimeSpan.Zero)
        {
            signal.Notify(queue);
        }

        return receipt;
    }

    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => inner.GetApproximateCountAsync(queue, cancellationToken);
}
