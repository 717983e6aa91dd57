using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Serverless.Orchestrations.Ports;
using QueueMessage = Serverless.Orchestrations.Ports.QueueMessage;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// <see cref="IWorkQueue"/> on Azure Storage Queues. The client encodes bodies as base64 of their UTF-8 (see
/// <see cref="AzureStorageClients"/>), the encoding the Functions host's queue trigger decodes by default, so a
/// message this adapter enqueues reaches a queue function in Azure exactly as the standalone trigger host hands it
/// over locally. A missing queue is created on the first enqueue that needs it; reading it finds nothing.
/// </summary>
internal sealed class AzureQueueWorkQueue(QueueServiceClient queues, ILogger<AzureQueueWorkQueue> logger) : IWorkQueue
{
    public async Task<string> EnqueueAsync(string queue, string message, TimeSpan? delay, CancellationToken cancellationToken)
    {
        var wait = delay ?? TimeSpan.Zero;
        PortArguments.Enqueue(queue, message, wait);
        var client = queues.GetQueueClient(queue);
        var receipt = await StorageResources.CreatingQueueAsync(
            client, () => client.SendMessageAsync(message, Seconds(wait), StorageResources.NeverExpires, cancellationToken), logger, cancellationToken);
        return receipt.Value.MessageId;
    }

    public async Task<IReadOnlyList<QueueMessage>> DequeueAsync(string queue, int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        PortArguments.Dequeue(queue, maxMessages, visibilityTimeout);
        try
        {
            // A lease shorter than a second does not exist in the service; the shortest it grants is one second.
            var lease = Seconds(visibilityTimeout) < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : Seconds(visibilityTimeout);
            var messages = await queues.GetQueueClient(queue).ReceiveMessagesAsync(maxMessages, lease, cancellationToken);
            return [.. messages.Value.Select(m => new QueueMessage(
                m.MessageId, m.PopReceipt, m.Body.ToString(), (int)m.DequeueCount, m.InsertedOn ?? DateTimeOffset.MinValue, m.NextVisibleOn ?? DateTimeOffset.MinValue))];
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }
    }

    public async Task<bool> DeleteAsync(string queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        PortArguments.Lease(queue, messageId, popReceipt);
        try
        {
            await queues.GetQueueClient(queue).DeleteMessageAsync(messageId, popReceipt, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (IsStaleLease(e))
        {
            return false;
        }
    }

    public async Task<string?> UpdateVisibilityAsync(string queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken)
    {
        PortArguments.Lease(queue, messageId, popReceipt);
        PortArguments.Window(visibilityTimeout, nameof(visibilityTimeout));
        try
        {
            // Without a message text the body stays as it is; only the lease changes.
            var receipt = await queues.GetQueueClient(queue).UpdateMessageAsync(
                messageId, popReceipt, messageText: null, visibilityTimeout: Seconds(visibilityTimeout), cancellationToken: cancellationToken);
            return receipt.Value.PopReceipt;
        }
        catch (RequestFailedException e) when (IsStaleLease(e))
        {
            return null;
        }
    }

    public async Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        PortArguments.Queue(queue);
        try
        {
            return (await queues.GetQueueClient(queue).GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0;
        }
    }

    // The service answers 404 for a message that is gone and 400 for a receipt that no longer matches.
    private static bool IsStaleLease(RequestFailedException e) =>
        e.Status == 404
        || (e.Status == 400 && (e.ErrorCode == QueueErrorCode.PopReceiptMismatch.ToString() || e.ErrorCode == QueueErrorCode.InvalidQueryParameterValue.ToString()));

    // The service counts whole seconds; rounding up never makes a message visible earlier than asked.
    private static TimeSpan Seconds(TimeSpan value) => TimeSpan.FromSeconds(Math.Ceiling(value.TotalSeconds));
}
