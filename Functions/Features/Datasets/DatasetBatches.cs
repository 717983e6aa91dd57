using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// Which documents each upload batch holds and how far they are, so "the batch is done" is decided by reading the
/// batch's own rows (partition <c>{workspace}:{dataset}</c>, row <c>{batch}:{document}</c>), never the whole dataset.
/// A document re-uploaded into a later batch, or deleted, leaves its earlier batch (<c>removed</c>). When every row
/// of a batch is final, <c>dataset.completed</c> goes to the platform event log once (its id is derived from the batch).
/// </summary>
internal sealed class DatasetBatches(IEntityStore store, PlatformEventLog events, ILogger<DatasetBatches> logger)
{
    public const string CompletedEvent = PlatformEventTypes.DatasetCompleted;
    private const string Removed = "removed";
    private const string Table = "datasetbatches";

    private readonly EntityTable<BatchEntry> _entries = new(store, Table);

    private sealed record BatchEntry(string DocumentId, string Status, int Chunks);

    private static string Row(string batchId, string documentId) => $"{batchId}:{documentId}";

    /// <summary>A dataset's events share an id prefix, so its list is a prefix scan of the workspace's log.</summary>
    public static string EventIdPrefix(string datasetId) => $"{CompletedEvent}:{datasetId}:";

    public Task JoinAsync(string workspaceId, string datasetId, string batchId, string documentId, CancellationToken cancellationToken) =>
        _entries.UpsertAsync(DatasetStore.DocumentPartition(workspaceId, datasetId), Row(batchId, documentId),
            new BatchEntry(documentId, DocumentStatus.Waiting, 0), cancellationToken);

    /// <summary>The document finished (completed or error) in this batch.</summary>
    public Task FinishAsync(string workspaceId, string datasetId, string batchId, string documentId, string status, int chunks, CancellationToken cancellationToken) =>
        SetAsync(workspaceId, datasetId, batchId, new BatchEntry(documentId, status, chunks), cancellationToken);

    /// <summary>The document left this batch (replaced by a later upload, or deleted).</summary>
    public Task LeaveAsync(string workspaceId, string datasetId, string batchId, string documentId, CancellationToken cancellationToken) =>
        SetAsync(workspaceId, datasetId, batchId, new BatchEntry(documentId, Removed, 0), cancellationToken);

    /// <summary>
    /// Removes every batch row of a dataset. Whole-partition work by nature (the dataset goes), done a page at a time;
    /// the other read here is one batch's rows, bounded by the upload that made them (at most 1,000 documents).
    /// </summary>
    public Task DeleteDatasetAsync(string workspaceId, string datasetId, CancellationToken cancellationToken) =>
        EntityPartitions.DeleteAllAsync(store, Table, DatasetStore.DocumentPartition(workspaceId, datasetId), cancellationToken);

    private async Task SetAsync(string workspaceId, string datasetId, string batchId, BatchEntry entry, CancellationToken cancellationToken)
    {
        var partition = DatasetStore.DocumentPartition(workspaceId, datasetId);
        await _entries.UpsertAsync(partition, Row(batchId, entry.DocumentId), entry, cancellationToken);
        var batch = new List<BatchEntry>();
        await foreach (var row in _entries.QueryAllAsync(new EntityQuery { PartitionKey = partition, RowKeyPrefix = batchId + ":", Take = EntityQuery.MaxTake }, cancellationToken))
        {
            batch.Add(row.Value);
        }

        var current = batch.Where(e => e.Status != Removed).ToList();
        if (current.Count == 0 || !current.All(e => DocumentStatus.IsFinal(e.Status)))
        {
            return;
        }

        var payload = new JsonObject
        {
            ["datasetId"] = datasetId,
            ["batchId"] = batchId,
            ["documents"] = current.Count,
            ["completed"] = current.Count(e => e.Status == DocumentStatus.Completed),
            ["failed"] = current.Count(e => e.Status == DocumentStatus.Error),
            ["chunks"] = current.Sum(e => e.Chunks),
            ["documentIds"] = new JsonArray([.. current.Select(e => (JsonNode?)e.DocumentId)]),
        };
        if (await events.AppendOnceAsync(workspaceId, EventIdPrefix(datasetId) + batchId, CompletedEvent, payload, cancellationToken))
        {
            DatasetsLog.BatchCompleted(logger, workspaceId, datasetId, batchId, current.Count);
        }
    }
}
