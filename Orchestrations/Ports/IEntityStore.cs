namespace Serverless.Orchestrations.Ports;

/// <summary>
/// A table-shaped entity store: entities addressed by (table, partition key, row key), each holding one JSON
/// document, guarded by an ETag for optimistic concurrency. Modelled on Azure Table Storage so that the
/// embedded SQLite adapter and the Azure adapter behave alike (both pass the same conformance suite).
/// </summary>
/// <remarks>
/// Ordering is ordinal (byte-wise) by partition key, then row key. Keys are validated by
/// <see cref="StoreKeys"/>: the same keys are legal in every adapter.
/// </remarks>
public interface IEntityStore
{
    /// <summary>Reads one entity, or <c>null</c> when it does not exist.</summary>
    Task<Entity?> GetAsync(string table, string partitionKey, string rowKey, CancellationToken cancellationToken);

    /// <summary>Inserts a new entity; <see cref="WriteStatus.Conflict"/> when it already exists.</summary>
    Task<WriteResult> InsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces unconditionally.</summary>
    Task<WriteResult> UpsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces an existing entity when its current ETag equals <paramref name="ifMatch"/>
    /// (<c>"*"</c> matches any). <see cref="WriteStatus.NotFound"/> when it does not exist,
    /// <see cref="WriteStatus.PreconditionFailed"/> when the ETag differs.
    /// </summary>
    Task<WriteResult> ReplaceAsync(string table, string partitionKey, string rowKey, string json, string ifMatch, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes an entity, conditionally when <paramref name="ifMatch"/> is given (<c>null</c> or <c>"*"</c> deletes
    /// whatever is there). <see cref="WriteStatus.NotFound"/> when it does not exist.
    /// </summary>
    Task<WriteResult> DeleteAsync(string table, string partitionKey, string rowKey, string? ifMatch, CancellationToken cancellationToken);

    /// <summary>
    /// Scans entities in key order. Returns at most <see cref="EntityQuery.Take"/> entities and a continuation
    /// token when more may follow; pass the token back to read the next page.
    /// </summary>
    Task<EntityPage> QueryAsync(string table, EntityQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Applies up to <see cref="EntityBatch.MaxWrites"/> writes to one partition of one table atomically (Azure Table
    /// Storage's entity group transaction): all of them happen or none does. Each row key may appear once. The first
    /// write whose condition fails (insert of an existing row: <see cref="WriteStatus.Conflict"/>; replace or
    /// delete of a missing row: <see cref="WriteStatus.NotFound"/>; an ETag that differs:
    /// <see cref="WriteStatus.PreconditionFailed"/>) fails the batch and is named by <see cref="BatchResult.FailedIndex"/>.
    /// </summary>
    Task<BatchResult> SubmitBatchAsync(string table, string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken);

    /// <summary>A cheap round trip that proves the store answers (used by health checks).</summary>
    Task PingAsync(CancellationToken cancellationToken);
}

/// <summary>The limits of <see cref="IEntityStore.SubmitBatchAsync"/>.</summary>
public static class EntityBatch
{
    /// <summary>Most writes in one batch (Azure Table Storage's limit).</summary>
    public const int MaxWrites = 100;
}

/// <summary>What a batch write does.</summary>
public enum BatchWriteKind
{
    /// <summary>Insert a new row; fails the batch with Conflict when it exists.</summary>
    Insert,
    /// <summary>Insert or replace unconditionally.</summary>
    Upsert,
    /// <summary>Replace an existing row when its ETag matches <see cref="BatchWrite.IfMatch"/> (<c>"*"</c>: any).</summary>
    Replace,
    /// <summary>Delete an existing row, conditionally when <see cref="BatchWrite.IfMatch"/> is given; a missing row fails the batch.</summary>
    Delete,
}

/// <summary>One write of a batch.</summary>
/// <param name="Kind">What it does.</param>
/// <param name="RowKey">The row it writes.</param>
/// <param name="Json">The document (inserts, upserts, replaces).</param>
/// <param name="IfMatch">The ETag condition (replace: required, <c>"*"</c> for any; delete: optional).</param>
public sealed record BatchWrite(BatchWriteKind Kind, string RowKey, string? Json = null, string? IfMatch = null)
{
    /// <summary>An insert.</summary>
    public static BatchWrite Insert(string rowKey, string json) => new(BatchWriteKind.Insert, rowKey, json);

    /// <summary>An unconditional insert-or-replace.</summary>
    public static BatchWrite Upsert(string rowKey, string json) => new(BatchWriteKind.Upsert, rowKey, json);

    /// <summary>A conditional replace.</summary>
    public static BatchWrite Replace(string rowKey, string json, string ifMatch) => new(BatchWriteKind.Replace, rowKey, json, ifMatch);

    /// <summary>A delete, conditional when <paramref name="ifMatch"/> is given.</summary>
    public static BatchWrite Delete(string rowKey, string? ifMatch = null) => new(BatchWriteKind.Delete, rowKey, IfMatch: ifMatch);
}

/// <summary>The outcome of a batch.</summary>
/// <param name="Status"><see cref="WriteStatus.Ok"/> when every write happened, else why the batch failed.</param>
/// <param name="FailedIndex">The index of the write that failed the batch, or <c>null</c>.</param>
/// <param name="ETags">On success, each write's new ETag in order (deletes: <c>null</c>); empty on failure.</param>
public sealed record BatchResult(WriteStatus Status, int? FailedIndex, IReadOnlyList<string?> ETags)
{
    /// <summary>True when every write happened.</summary>
    public bool Succeeded => Status == WriteStatus.Ok;
}

/// <summary>One stored entity.</summary>
/// <param name="PartitionKey">The partition key.</param>
/// <param name="RowKey">The row key, unique within the partition.</param>
/// <param name="Json">The entity's JSON document, as written.</param>
/// <param name="ETag">Opaque version tag; changes on every write.</param>
/// <param name="Timestamp">When the entity was last written (store clock).</param>
public sealed record Entity(string PartitionKey, string RowKey, string Json, string ETag, DateTimeOffset Timestamp);

/// <summary>The outcome of a write.</summary>
public enum WriteStatus
{
    /// <summary>The write happened.</summary>
    Ok,
    /// <summary>Insert of an entity that already exists.</summary>
    Conflict,
    /// <summary>The entity does not exist.</summary>
    NotFound,
    /// <summary>The ETag condition did not hold.</summary>
    PreconditionFailed,
}

/// <summary>The outcome of a write and, when it happened, the entity's new ETag.</summary>
/// <param name="Status">What happened.</param>
/// <param name="ETag">The new ETag when <see cref="Status"/> is <see cref="WriteStatus.Ok"/> (deletes: <c>null</c>).</param>
public readonly record struct WriteResult(WriteStatus Status, string? ETag)
{
    /// <summary>True when the write happened.</summary>
    public bool Succeeded => Status == WriteStatus.Ok;
}

/// <summary>
/// A key-ordered scan. With <see cref="PartitionKey"/> null the scan crosses partitions. Row-key bounds:
/// <see cref="RowKeyPrefix"/> or the range [<see cref="RowKeyFrom"/>, <see cref="RowKeyTo"/>) (from inclusive,
/// to exclusive); the prefix and the range may not be combined.
/// </summary>
public sealed record EntityQuery
{
    /// <summary>Largest page an adapter returns (Azure Table Storage's own page limit).</summary>
    public const int MaxTake = 1000;

    /// <summary>Only this partition; <c>null</c> scans every partition.</summary>
    public string? PartitionKey { get; init; }
    /// <summary>Only row keys starting with this prefix (ordinal).</summary>
    public string? RowKeyPrefix { get; init; }
    /// <summary>Only row keys ≥ this value.</summary>
    public string? RowKeyFrom { get; init; }
    /// <summary>Only row keys &lt; this value.</summary>
    public string? RowKeyTo { get; init; }
    /// <summary>Page size, 1..<see cref="MaxTake"/>.</summary>
    public int Take { get; init; } = 100;
    /// <summary>The token a previous page returned, or <c>null</c> for the first page.</summary>
    public string? ContinuationToken { get; init; }
}

/// <summary>One page of a scan.</summary>
/// <param name="Items">The entities, in key order.</param>
/// <param name="ContinuationToken">Pass back to read on; <c>null</c> when the scan is complete.</param>
public sealed record EntityPage(IReadOnlyList<Entity> Items, string? ContinuationToken);
