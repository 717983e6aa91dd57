using System.Globalization;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// Documents that may be owed an ingestion message. An upload writes the document's record and then queues its message;
/// a process that dies in between (or a failed enqueue) would leave the document <c>waiting</c> for ever. So an upload
/// first notes the document here (row key = when, so old notes are one range scan), and the
/// <see cref="IngestionWatchdog"/> re-queues a note's document when it is still <c>waiting</c> after
/// <see cref="DatasetsOptions.StalledAfterMinutes"/>; a note whose document moved on or is gone is dropped.
/// </summary>
internal sealed class WaitingDocuments(IEntityStore store, TimeProvider time)
{
    private const string Partition = "waiting";

    private readonly EntityTable<WaitingDocument> _notes = new(store, "datasetwaiting");

    internal sealed record WaitingDocument(string WorkspaceId, string DatasetId, string DocumentId);

    private static string Row(DateTimeOffset since, WaitingDocument document) =>
        $"{since.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}:{document.WorkspaceId}:{document.DatasetId}:{document.DocumentId}";

    public Task NoteAsync(string workspaceId, string datasetId, string documentId, CancellationToken cancellationToken)
    {
        var document = new WaitingDocument(workspaceId, datasetId, documentId);
        return _notes.UpsertAsync(Partition, Row(time.GetUtcNow(), document), document, cancellationToken);
    }

    /// <summary>The notes written before <paramref name="before"/>, oldest first.</summary>
    public IAsyncEnumerable<Stored<WaitingDocument>> OlderThanAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        _notes.QueryAllAsync(new EntityQuery
        {
            PartitionKey = Partition,
            RowKeyTo = before.UtcTicks.ToString("D19", CultureInfo.InvariantCulture),
            Take = EntityQuery.MaxTake,
        }, cancellationToken);

    public Task DropAsync(Stored<WaitingDocument> note, CancellationToken cancellationToken) =>
        _notes.DeleteAsync(note.PartitionKey, note.RowKey, note.ETag, cancellationToken);
}

/// <summary>Timer: re-queues the ingestion of documents left <c>waiting</c> by a lost message (see <see cref="WaitingDocuments"/>).</summary>
internal sealed class IngestionWatchdog(
    WaitingDocuments waiting, DatasetStore store, DocumentIngestion ingestion, IOptions<DatasetsOptions> options, TimeProvider time,
    ILogger<IngestionWatchdog> logger)
{
    /// <summary>Checks every note older than the stall limit; returns how many were checked and how many re-queued.</summary>
    public async Task<(int Checked, int Requeued)> RunAsync(CancellationToken cancellationToken)
    {
        var stalledAfter = TimeSpan.FromMinutes(options.Value.StalledAfterMinutes);
        var before = time.GetUtcNow() - stalledAfter;
        int checkedNotes = 0, requeued = 0;
        await foreach (var note in waiting.OlderThanAsync(before, cancellationToken))
        {
            checkedNotes++;
            var (ws, ds, id) = note.Value;
            var document = await store.GetDocumentAsync(ws, ds, id, cancellationToken);
            // A waiting document written after the note was re-uploaded since, and that upload noted it anew.
            if (document is { Status: DocumentStatus.Waiting } && document.UpdatedAt <= before)
            {
                // A message still queued behind a long backlog is sent twice; ingestion skips a version it already finished.
                await ingestion.EnqueueAsync(ws, document, cancellationToken);
                await waiting.NoteAsync(ws, ds, id, cancellationToken);
                DatasetsLog.IngestionRequeued(logger, ws, ds, id, document.Version);
                requeued++;
            }

            await waiting.DropAsync(note, cancellationToken);
        }

        return (checkedNotes, requeued);
    }
}
