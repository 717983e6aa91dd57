using System.Text;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// The argument checks of the storage ports, shared by every adapter so that the embedded and the Azure adapters
/// refuse the same input with the same exception, before any I/O.
/// </summary>
internal static class PortArguments
{
    /// <summary>Longest delay or lease, as Azure Storage Queues allow.</summary>
    public static readonly TimeSpan MaxQueueWindow = TimeSpan.FromDays(7);

    /// <summary>Largest dequeue batch, as Azure Storage Queues allow.</summary>
    public const int MaxDequeueBatch = 32;

    public static void Table(string table)
    {
        ArgumentNullException.ThrowIfNull(table);
        StoreKeys.ValidateTable(table);
    }

    public static void Address(string table, string partitionKey, string rowKey)
    {
        Table(table);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        StoreKeys.ValidateKey(partitionKey, nameof(partitionKey));
        StoreKeys.ValidateKey(rowKey, nameof(rowKey));
    }

    public static void Write(string table, string partitionKey, string rowKey, string json)
    {
        Address(table, partitionKey, rowKey);
        ArgumentException.ThrowIfNullOrEmpty(json);
    }

    public static void Batch(string table, string partitionKey, IReadOnlyList<BatchWrite> writes)
    {
        Table(table);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(writes);
        StoreKeys.ValidateKey(partitionKey, nameof(partitionKey));
        if (writes.Count is 0 or > EntityBatch.MaxWrites)
        {
            throw new ArgumentException($"A batch holds 1 to {EntityBatch.MaxWrites} writes.", nameof(writes));
        }

        var rows = new HashSet<string>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            ArgumentNullException.ThrowIfNull(write, nameof(writes));
            ArgumentNullException.ThrowIfNull(write.RowKey, nameof(writes));
            StoreKeys.ValidateKey(write.RowKey, nameof(writes));
            if (!rows.Add(write.RowKey))
            {
                throw new ArgumentException($"Row '{write.RowKey}' appears twice in one batch.", nameof(writes));
            }

            if (write.Kind != BatchWriteKind.Delete && string.IsNullOrEmpty(write.Json))
            {
                throw new ArgumentException($"The {write.Kind} of row '{write.RowKey}' has no document.", nameof(writes));
            }

            if (write.Kind == BatchWriteKind.Replace && string.IsNullOrEmpty(write.IfMatch))
            {
                throw new ArgumentException($"The replace of row '{write.RowKey}' has no ETag condition.", nameof(writes));
            }
        }
    }

    public static void Query(string table, EntityQuery query)
    {
        Table(table);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Take, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.Take, EntityQuery.MaxTake, nameof(query));
        OptionalKey(query.PartitionKey);
        OptionalKey(query.RowKeyPrefix);
        OptionalKey(query.RowKeyFrom);
        OptionalKey(query.RowKeyTo);
        if (query.RowKeyPrefix is not null && (query.RowKeyFrom is not null || query.RowKeyTo is not null))
        {
            throw new ArgumentException("A row-key prefix cannot be combined with a row-key range.", nameof(query));
        }
    }

    public static void Queue(string queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        QueueNames.Validate(queue);
    }

    public static void Enqueue(string queue, string message, TimeSpan delay)
    {
        Queue(queue);
        ArgumentNullException.ThrowIfNull(message);
        if (Encoding.UTF8.GetByteCount(message) > QueueNames.MaxMessageBytes)
        {
            throw new ArgumentException($"The message exceeds {QueueNames.MaxMessageBytes} UTF-8 bytes.", nameof(message));
        }

        Window(delay, "delay");
    }

    public static void Dequeue(string queue, int maxMessages, TimeSpan visibilityTimeout)
    {
        Queue(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessages, MaxDequeueBatch);
        Window(visibilityTimeout, nameof(visibilityTimeout));
    }

    public static void Lease(string queue, string messageId, string popReceipt)
    {
        Queue(queue);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);
    }

    public static void Window(TimeSpan value, string paramName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxQueueWindow, paramName);
    }

    public static void Blob(string container, string name)
    {
        Container(container);
        ArgumentNullException.ThrowIfNull(name);
        StoreKeys.ValidateBlobName(name);
    }

    public static void Container(string container)
    {
        ArgumentNullException.ThrowIfNull(container);
        StoreKeys.ValidateContainer(container);
    }

    private static void OptionalKey(string? key)
    {
        if (key is not null)
        {
            StoreKeys.ValidateKey(key, "query");
        }
    }
}
