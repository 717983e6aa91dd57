using System.Text;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// <see cref="IWorkQueue"/> on Azure Storage Queues. Bodies are UTF-8 then base64, the encoding the Functions
/// host's queue trigger decodes by default, so a message this adapter enqueues reaches a queue function in Azure
/// exactly as the standalone trigger host hands it over locally.
/// </summary>
internal sealed class AzureQueueWorkQueue(QueueRestClient queues) : IWorkQueue
{
    public async Task<string> EnqueueAsync(string queue, string message, TimeSpan? delay, CancellationToken cancellationToken)
    {
        var wait = delay ?? TimeSpan.Zero;
        PortArguments.Enqueue(queue, message, wait);
        return await queues.PutAsync(queue, Encode(message), Seconds(wait), cancellationToken);
    }

    public async Task<IReadOnlyList<QueueMessage>> DequeueAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        PortArguments.Dequeue(queue, maxMessages, visibilityTimeout);
        // A lease shorter than a second does not exist in the service; the shortest it grants is one second.
        var messages = await queues.GetAsync(queue, maxMessages, Math.Max(1, Seconds(visibilityTimeout)), cancellationToken);
        return [.. messages.Select(m => new QueueMessage(m.Id, m.PopReceipt, Decode(m.Text), m.DequeueCount, m.InsertedAt, m.NextVisibleAt))];
    }

    public Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        PortArguments.Lease(queue, messageId, popReceipt);
        return queues.DeleteAsync(queue, messageId, popReceipt, cancellationToken);
    }

    public Task<string?> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        PortArguments.Lease(queue, messageId, popReceipt);
        PortArguments.Window(visibilityTimeout, nameof(visibilityTimeout));
        return queues.UpdateAsync(queue, messageId, popReceipt, Seconds(visibilityTimeout), cancellationToken);
    }

    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        PortArguments.Queue(queue);
        return queues.CountAsync(queue, cancellationToken);
    }

    public static string Encode(string message) => Convert.ToBase64String(Encoding.UTF8.GetBytes(message));

    /// <summary>Base64 as written by this adapter (or the Functions host's output bindings); anything else is taken as plain text.</summary>
    public static string Decode(string text)
    {
        var bytes = new byte[text.Length];
        return Convert.TryFromBase64String(text, bytes, out var written) ? Encoding.UTF8.GetString(bytes, 0, written) : text;
    }

    // The service counts whole seconds; rounding up never makes a message visible earlier than asked.
    private static int Seconds(TimeSpan value) => (int)Math.Ceiling(value.TotalSeconds);
}
