using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Search;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Datasets;

/// <summary>One document version to ingest; the <c>dataset-ingest</c> queue carries these.</summary>
internal sealed record IngestMessage(string WorkspaceId, string DatasetId, string DocumentId, int Version)
{
    public static IngestMessage? Parse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<IngestMessage>(text, JsonSerializerOptions.Web) is { WorkspaceId.Length: > 0, DatasetId.Length: > 0, DocumentId.Length: > 0 } m ? m : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// Ingests one document version: parse → split → embed (in batches) → index, recording status and progress on the
/// document as it goes. Delivery is at least once, so every step re-checks the version: a message for an older
/// upload, or for a document already finished, does nothing. A finished document reports to its batch
/// (<see cref="DatasetBatches"/>), which records <c>dataset.completed</c> when the batch is done.
/// </summary>
internal sealed class DocumentIngestion(
    DatasetStore store,
    IBlobStore blobs,
    IWorkQueue queue,
    Lazy<ISearchIndex> index,
    DatasetEmbedder embedder,
    DatasetBatches batches,
    IOptions<DatasetsOptions> options,
    TimeProvider time,
    ILogger<DocumentIngestion> logger)
{
    public const string QueueName = "dataset-ingest";

    public Task EnqueueAsync(string workspaceId, DocumentRecord document, CancellationToken cancellationToken) =>
        queue.EnqueueAsync(QueueName, JsonSerializer.Serialize(new IngestMessage(workspaceId, document.DatasetId, document.Id, document.Version), JsonSerializerOptions.Web),
            null, cancellationToken);

    /// <summary>Runs the message; <paramref name="lastAttempt"/> turns a failure that would be retried into the document's error.</summary>
    public async Task<string> IngestAsync(IngestMessage message, bool lastAttempt, CancellationToken cancellationToken)
    {
        var (ws, ds, id, version) = message;
        var document = await store.GetDocumentAsync(ws, ds, id, cancellationToken);
        if (document is null || document.Version != version || DocumentStatus.IsFinal(document.Status))
        {
            return $"Skipped {id} v{version}: deleted, replaced or already done.";
        }

        if (await store.GetAsync(ws, ds, cancellationToken) is not { } dataset)
        {
            return $"Skipped {id}: the dataset is gone.";
        }

        try
        {
            return await RunAsync(dataset, document, message, cancellationToken);
        }
        catch (UnparseableDocumentException e)
        {
            await FailAsync(message, document.BatchId, e.Message, cancellationToken);
            return e.Message;
        }
        catch (DatasetModelException e) when (!e.Retryable || lastAttempt)
        {
            await FailAsync(message, document.BatchId, $"Embedding with '{dataset.EmbeddingModel}' failed: {e.Message}", cancellationToken);
            return e.Message;
        }
        catch (Exception e) when (lastAttempt && e is not OperationCanceledException)
        {
            DatasetsLog.IngestionGaveUp(logger, e, ws, ds, id);
            await FailAsync(message, document.BatchId, "Ingestion failed repeatedly; upload the document again.", cancellationToken);
            return "gave up";
        }
    }

    private async Task<string> RunAsync(DatasetRecord dataset, DocumentRecord document, IngestMessage message, CancellationToken cancellationToken)
    {
        var (ws, ds, id, version) = message;
        if (await AdvanceAsync(message, d => d with { Status = DocumentStatus.Parsing, Error = null, ChunksDone = 0, ChunksTotal = 0 }, cancellationToken) is null)
        {
            return "stale";
        }

        List<TextBlock> blocks;
        await using (var download = await blobs.OpenReadAsync(DatasetStore.Container, document.BlobName, cancellationToken))
        {
            if (download is null)
            {
                throw new UnparseableDocumentException("The uploaded file is missing; upload the document again.");
            }

            blocks = await DocumentParsers.ParseAsync(document.Format, download.Content, cancellationToken);
        }

        if (await AdvanceAsync(message, d => d with { Status = DocumentStatus.Splitting }, cancellationToken) is null)
        {
            return "stale";
        }

        var texts = Chunker.Split(blocks, dataset.Chunking);
        if (texts.Count == 0)
        {
            throw new UnparseableDocumentException(dataset.Chunking.Mode == ChunkingModes.QaPairs
                ? "No question/answer pairs were found (expected 'Q:'/'A:' lines or question/answer columns)."
                : "The document holds no text.");
        }

        var vectors = new float[texts.Count][];
        if (dataset.EmbeddingModel is { } model)
        {
            if (await AdvanceAsync(message, d => d with { Status = DocumentStatus.Embedding, ChunksTotal = texts.Count }, cancellationToken) is null)
            {
                return "stale";
            }

            var batch = options.Value.EmbeddingBatchSize;
            for (var start = 0; start < texts.Count; start += batch)
            {
                var slice = texts.Skip(start).Take(batch).ToList();
                var embedded = await embedder.EmbedAsync(ws, model, slice, cancellationToken);
                embedded.CopyTo(vectors, start);
                var done = start + slice.Count;
                if (await AdvanceAsync(message, d => d with { ChunksDone = done }, cancellationToken) is null)
                {
                    return "stale";
                }
            }
        }

        if (await AdvanceAsync(message, d => d with { Status = DocumentStatus.Indexing, ChunksTotal = texts.Count }, cancellationToken) is null)
        {
            return "stale";
        }

        var metadata = DatasetInput.Scalars(document.Metadata);
        var chunks = texts.Select((text, i) => new IndexedChunk($"{id}#{i}", id, i, document.Title, text, (JsonObject)metadata.DeepClone(),
            dataset.EmbeddingModel is null ? null : vectors[i])).ToList();
        var collection = DatasetStore.Collection(ws, ds);
        await index.Value.UpsertDocumentChunksAsync(collection, chunks, cancellationToken);

        var completed = await AdvanceAsync(message, d => d with
        {
            Status = DocumentStatus.Completed, ChunksDone = texts.Count, ChunksTotal = texts.Count, CompletedAt = time.GetUtcNow(),
        }, cancellationToken);
        if (completed is null)
        {
            // Deleted while we indexed: take the chunks back out. (Replaced: the newer version re-indexes them.)
            if (await store.GetDocumentAsync(ws, ds, id, cancellationToken) is null)
            {
                await index.Value.DeleteDocumentAsync(collection, id, cancellationToken);
            }

            return "stale";
        }

        await batches.FinishAsync(ws, ds, document.BatchId, id, DocumentStatus.Completed, texts.Count, cancellationToken);
        return $"Ingested {id} v{version}: {texts.Count} chunks.";
    }

    private Task<DocumentRecord?> AdvanceAsync(IngestMessage message, Func<DocumentRecord, DocumentRecord> change, CancellationToken cancellationToken) =>
        store.AdvanceAsync(message.WorkspaceId, message.DatasetId, message.DocumentId, message.Version, change, cancellationToken);

    private async Task FailAsync(IngestMessage message, string batchId, string error, CancellationToken cancellationToken)
    {
        if (await AdvanceAsync(message, d => d with { Status = DocumentStatus.Error, Error = error }, cancellationToken) is not null)
        {
            await batches.FinishAsync(message.WorkspaceId, message.DatasetId, batchId, message.DocumentId, DocumentStatus.Error, 0, cancellationToken);
        }
    }
}
