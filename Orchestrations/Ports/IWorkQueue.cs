namespace Serverless.Orchestrations.Ports;

/// <summary>
/// A named-queue work queue with at-least-once delivery, modelled on Azure Storage Queues: a dequeued message
/// becomes invisible for a lease (visibility timeout) and reappears unless deleted; every dequeue increments
/// its dequeue count; the consumer moves a message that keeps failing to the poison queue
/// (<see cref="QueueNames.Poison"/>).
/// </summary>
public interface IWorkQueue
{
    /// <summary>Adds a message (UTF-8 text, at most <see cref="QueueNames.MaxMessageBytes"/>), visible after <paramref name="delay"/>.</summary>
    Task<string> EnqueueAsync(string queue, string message, TimeSpan? delay, CancellationToken cancellationToken);

    /// <summary>
    /// Leases up to <paramref name="maxMessages"/> visible messages (1..32) for <paramref name="visibilityTimeout"/>,
    /// oldest visible first, incrementing each one's dequeue count.
    /// </summary>
    Task<IReadOnlyList<QueueMessage>> DequeueAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>Deletes a leased message; false when the pop receipt is stale (the lease expired and someone else holds it) or it is gone.</summary>
    Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken);

    /// <summary>
    /// Changes a leased message's visibility (extend a lease, or release it for a delayed retry); returns the new
    /// pop receipt, or <c>null</c> when the receipt is stale or the message is gone.
    /// </summary>
    Task<string?> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken);

    /// <summary>Approximate number of messages in the queue, visible or not.</summary>
    Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken);
}

/// <summary>A leased message.</summary>
/// <param name="Id">The message id.</param>
/// <param name="PopReceipt">Proves the lease; needed to delete or update the message.</param>
/// <param name="Body">The message text.</param>
/// <param name="DequeueCount">How many times it has been dequeued, this time included.</param>
/// <param name="InsertedAt">When it was enqueued.</param>
/// <param name="NextVisibleAt">When the lease ends.</param>
public sealed record QueueMessage(string Id, string PopReceipt, string Body, int DequeueCount, DateTimeOffset InsertedAt, DateTimeOffset NextVisibleAt);

/// <summary>Queue naming rules shared by every adapter.</summary>
public static class QueueNames
{
    /// <summary>Largest message body, in UTF-8 bytes (Azure Storage Queue's limit before base64 encoding: 64 KiB encoded).</summary>
    public const int MaxMessageBytes = 48 * 1024;

    /// <summary>The poison queue of <paramref name="queue"/>, as the Azure Functions host names it.</summary>
    public static string Poison(string queue) => queue + "-poison";

    /// <summary>Throws <see cref="ArgumentException"/> unless the name is a legal Azure queue name (3-63 chars, lowercase letters, digits, single dashes, starts and ends alphanumeric).</summary>
    public static void Validate(string queue)
    {
        var ok = queue.Length is >= 3 and <= 63
            && char.IsAsciiLetterLower(queue[0]) | char.IsAsciiDigit(queue[0])
            && char.IsAsciiLetterLower(queue[^1]) | char.IsAsciiDigit(queue[^1])
            && !queue.Contains("--", StringComparison.Ordinal)
            && queue.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
        if (!ok)
        {
            throw new ArgumentException($"'{queue}' is not a valid queue name.", nameof(queue));
        }
    }
}
