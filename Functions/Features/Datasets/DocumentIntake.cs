using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Datasets;

/// <summary>A document given as JSON (upload's JSON form, RAG index).</summary>
internal sealed record JsonDocumentInput(string Id, string Title, string Content, JsonObject Metadata);

/// <summary>
/// Takes uploads in: files go to the blob store first, then each becomes (the next version of) a document waiting
/// for ingestion, and one message per document goes on the ingestion queue.
/// </summary>
internal sealed class DocumentIntake(DatasetStore store, IBlobStore blobs, DocumentIngestion ingestion, WaitingDocuments waiting, ILogger<DocumentIntake> logger)
{
    public const int MaxJsonDocuments = 1000;
    public const int MaxContentChars = 2_000_000;

    /// <summary>Reads <c>documents: [{id?, title?, content, metadata?}]</c>; per-field problems go to <paramref name="check"/>.</summary>
    public static List<JsonDocumentInput> ReadJsonDocuments(JsonNode? node, DatasetRecord dataset, Validator check, bool idRequired)
    {
        var documents = new List<JsonDocumentInput>();
        if (node is not JsonArray list || list.Count is 0 or > MaxJsonDocuments)
        {
            check.Add("documents", $"documents must be an array of 1 to {MaxJsonDocuments} documents.");
            return documents;
        }

        foreach (var (entry, i) in list.Select((e, i) => (e, i)))
        {
            var field = $"documents[{i}]";
            if (entry is not JsonObject document)
            {
                check.Add(field, $"{field} must be an object {{id, title?, content, metadata?}}.");
                continue;
            }

            var id = document["id"] is JsonValue idValue && idValue.GetValueKind() == JsonValueKind.String ? idValue.GetValue<string>() : null;
            if (id is null && (idRequired || document["id"] is not null))
            {
                check.Add($"{field}.id", "id must be a string of letters, digits, '.', '_', ':' or '-' (at most 128, starting with a letter or digit).");
            }
            else if (id is not null && !DatasetStore.IsValidDocumentId(id))
            {
                check.Add($"{field}.id", "id must be letters, digits, '.', '_', ':' or '-' (at most 128, starting with a letter or digit).");
            }

            var content = document["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : null;
            if (string.IsNullOrWhiteSpace(content) || content.Length > MaxContentChars)
            {
                check.Add($"{field}.content", $"content must be a non-empty string of at most {MaxContentChars} characters.");
            }

            var title = document["title"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null;
            check.When(document["title"] is not null && title is null, $"{field}.title", "title must be a string.").MaxLength($"{field}.title", title, 300);
            var metadata = DatasetInput.ReadMetadata(document["metadata"], dataset.MetadataFields, $"{field}.metadata", check);
            id ??= Platform.Security.Secrets.NewId("doc");
            title ??= metadata?["title"] is JsonValue mt && mt.GetValueKind() == JsonValueKind.String ? mt.GetValue<string>() : id;
            documents.Add(new JsonDocumentInput(id, title, content ?? "", metadata ?? []));
        }

        return documents;
    }

    /// <summary>Stores a file's content (read to its end) as the blob of a document's next version.</summary>
    public async Task<DocumentUpload> StoreAsync(string workspaceId, DatasetRecord dataset, string documentId, string title, string source, string format,
        Stream content, JsonObject metadata, CancellationToken cancellationToken)
    {
        var blobName = DatasetStore.BlobNameFor(workspaceId, dataset.Id, documentId);
        var info = await blobs.UploadAsync(DatasetStore.Container, blobName, content, DocumentParsers.ContentType(format), overwrite: true, cancellationToken)
            ?? throw new InvalidOperationException($"The blob {blobName} could not be written.");
        return new DocumentUpload(dataset.Id, documentId, title, source, format, blobName, info.Length, metadata);
    }

    public async Task<List<DocumentUpload>> StoreJsonAsync(string workspaceId, DatasetRecord dataset, IReadOnlyList<JsonDocumentInput> documents, CancellationToken cancellationToken)
    {
        var uploads = new List<DocumentUpload>();
        foreach (var document in documents)
        {
            await using var content = new MemoryStream(Encoding.UTF8.GetBytes(document.Content));
            uploads.Add(await StoreAsync(workspaceId, dataset, document.Id, document.Title, "json", ".txt", content, document.Metadata, cancellationToken));
        }

        return uploads;
    }

    /// <summary>
    /// Turns stored files into waiting documents of one batch and queues their ingestion; null (and nothing kept) when
    /// the dataset was deleted while the upload ran.
    /// </summary>
    public async Task<UploadBatch?> SubmitAsync(string workspaceId, DatasetRecord dataset, IReadOnlyList<DocumentUpload> uploads, CancellationToken cancellationToken)
    {
        var batchId = Platform.Security.Secrets.NewId("batch");
        var documents = new List<DocumentRecord>();
        foreach (var upload in uploads)
        {
            // Noted before the record exists, so no crash can leave a waiting document the watchdog does not know of.
            await waiting.NoteAsync(workspaceId, dataset.Id, upload.DocumentId, cancellationToken);
            var document = await store.PutDocumentAsync(workspaceId, upload, batchId, cancellationToken);
            documents.Add(document);
        }

        // A dataset deleted since the upload began would keep these records and files for ever (its delete listed the
        // documents before they were written); see DatasetStore.DeleteAsync for the other half of this handshake.
        if (await store.GetAsync(workspaceId, dataset.Id, cancellationToken) is null)
        {
            await store.DeleteContentsAsync(workspaceId, dataset.Id, CancellationToken.None);
            return null;
        }

        // Messages go after every record of the batch exists, so the batch cannot look finished while half of it is unwritten.
        foreach (var document in documents)
        {
            await ingestion.EnqueueAsync(workspaceId, document, cancellationToken);
        }

        DatasetsLog.Uploaded(logger, batchId, documents.Count, dataset.Id, workspaceId);
        return new UploadBatch(batchId, [.. documents.Select(DocumentDto.From)]);
    }

    /// <summary>Removes files stored for an upload that was then refused.</summary>
    public async Task DiscardAsync(IEnumerable<DocumentUpload> uploads)
    {
        foreach (var upload in uploads)
        {
            // Not the request's token: the cleanup must happen even when the client went away.
            await blobs.DeleteAsync(DatasetStore.Container, upload.BlobName, CancellationToken.None);
        }
    }
}

internal sealed record UploadBatch(string BatchId, IReadOnlyList<DocumentDto> Documents);
