using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// Datasets (one row each in the workspace's partition), their documents (partition <c>{workspace}:{dataset}</c>),
/// the RAG namespaces that name datasets, and the uploaded files in the <c>datasets</c> blob container.
/// </summary>
internal sealed partial class DatasetStore(IEntityStore store, IBlobStore blobs, Lazy<ISearchIndex> index, DatasetBatches batches, TimeProvider time)
{
    public const string Container = "datasets";

    private const string DocumentsTable = "datasetdocuments";

    // Ids may be 128 characters, more than an index row key holds beside a full sort key (ListIndex writes each
    // character as four); longer ids are kept under a shortened key no id can take ('|' is not an id character).
    private const int MaxDirectKey = 64;

    public static readonly ListIndex<DatasetRecord> DatasetIndex = new(
        version: 1,
        d => d.Id,
        new Dictionary<string, Func<DatasetRecord, string>>
        {
            ["createdAt"] = d => d.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = d => d.UpdatedAt.UtcDateTime.ToString("O"),
            ["name"] = d => d.Name.ToLowerInvariant(),
        });

    public static readonly ListIndex<DocumentRecord> DocumentIndex = new(
        version: 1,
        d => DocumentKey(d.Id),
        new Dictionary<string, Func<DocumentRecord, string>>
        {
            ["createdAt"] = d => d.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = d => d.UpdatedAt.UtcDateTime.ToString("O"),
            ["title"] = d => d.Title.ToLowerInvariant(),
            ["status"] = d => d.Status,
        },
        new Dictionary<string, Func<DocumentRecord, string?>> { ["status"] = d => d.Status });

    private readonly IndexedTable<DatasetRecord> _datasets = new(store, "datasets", DatasetIndex, EntityTable<DatasetRecord>.Json);
    // Rows written before the index are keyed by the raw id; long ones move under their shortened key on first use.
    private readonly IndexedTable<DocumentRecord> _documents = new(
        store, DocumentsTable, DocumentIndex, EntityTable<DocumentRecord>.Json, e => JsonSerializer.Deserialize<DocumentRecord>(e.Json, EntityTable<DocumentRecord>.Json));
    private readonly EntityTable<NamespaceEntry> _namespaces = new(store, "datasetnamespaces");

    /// <summary>A workspace's datasets (partition = workspace id), newest first unless asked otherwise.</summary>
    public IndexedList<DatasetRecord> List => new(_datasets, "createdAt", DefaultDescending: true,
        Matches: (d, s) => d.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || d.Description.Contains(s, StringComparison.OrdinalIgnoreCase));

    /// <summary>A dataset's documents (partition = <see cref="DocumentPartition"/>), newest first unless asked otherwise.</summary>
    public IndexedList<DocumentRecord> Documents => new(_documents, "createdAt", DefaultDescending: true,
        Matches: (d, s) => d.Title.Contains(s, StringComparison.OrdinalIgnoreCase) || d.Id.Contains(s, StringComparison.OrdinalIgnoreCase),
        StatusFilter: "status");

    private sealed record NamespaceEntry(string DatasetId);

    /// <summary>
    /// Ids a caller may choose for documents (they become entity and blob name segments). They start with a letter or
    /// digit, so none can reach into the row keys the documents' list index keeps (<see cref="ListIndex{T}.Reserved"/>).
    /// </summary>
    public static bool IsValidDocumentId(string id) => DocumentIdPattern().IsMatch(id);

    /// <summary>A file's default document id: its name with anything an id may not hold replaced by '-'.</summary>
    public static string DocumentIdFromFileName(string fileName)
    {
        var id = NotIdCharacter().Replace(fileName, "-").TrimStart('.', '_', ':', '-');
        return id.Length > 128 ? id[..128] : id;
    }

    public static string DocumentPartition(string workspaceId, string datasetId) => $"{workspaceId}:{datasetId}";

    public static SearchCollection Collection(string workspaceId, string datasetId) => new(workspaceId, datasetId);

    public async Task<DatasetRecord?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        (await _datasets.GetAsync(workspaceId, id, cancellationToken))?.Value;

    public async Task<DatasetRecord> CreateAsync(string workspaceId, string userId, DatasetChanges changes, string? ns, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var dataset = new DatasetRecord(Secrets.NewId("ds"), changes.Name!, changes.Description ?? "", changes.EmbeddingModel,
            changes.Chunking ?? ChunkingSettings.Default, changes.MetadataFields ?? [], ns, userId, now, now);
        await _datasets.InsertAsync(workspaceId, dataset, cancellationToken);
        return dataset;
    }

    public async Task<DatasetRecord?> UpdateAsync(string workspaceId, string id, DatasetChanges changes, CancellationToken cancellationToken)
    {
        var updated = await _datasets.UpdateAsync(workspaceId, id, d => d with
        {
            Name = changes.Name ?? d.Name,
            Description = changes.Description ?? d.Description,
            EmbeddingModel = changes.ClearEmbeddingModel ? null : changes.EmbeddingModel ?? d.EmbeddingModel,
            Chunking = changes.Chunking ?? d.Chunking,
            MetadataFields = changes.MetadataFields ?? d.MetadataFields,
            UpdatedAt = time.GetUtcNow(),
        }, cancellationToken);
        return updated?.Value;
    }

    /// <summary>Removes the dataset with every document, chunk, vector and file.</summary>
    public async Task<bool> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        if (await GetAsync(workspaceId, id, cancellationToken) is not { } dataset)
        {
            return false;
        }

        await DeleteContentsAsync(workspaceId, id, cancellationToken);
        if (dataset.Namespace is { } ns)
        {
            await _namespaces.DeleteAsync(workspaceId, ns, null, cancellationToken);
        }

        var deleted = (await _datasets.DeleteAsync(workspaceId, id, null, cancellationToken)).Succeeded;
        // An upload that found the dataset before its row went may have written documents since the first pass. It
        // looks again once they are written (DocumentIntake.SubmitAsync): what it wrote before that look is found here,
        // what it writes after, it removes itself.
        await DeleteContentsAsync(workspaceId, id, cancellationToken);
        return deleted;
    }

    /// <summary>Removes every document, chunk, vector, batch row and file of a dataset (its own row stays).</summary>
    public async Task DeleteContentsAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        // The documents' partition is the dataset's own: it goes whole, index rows included.
        await EntityPartitions.DeleteAllAsync(store, DocumentsTable, DocumentPartition(workspaceId, id), cancellationToken);

        await index.Value.DeleteCollectionAsync(Collection(workspaceId, id), cancellationToken);
        await batches.DeleteDatasetAsync(workspaceId, id, cancellationToken);
        await DeleteBlobsAsync($"{workspaceId}/{id}/", cancellationToken);
    }

    /// <summary>The dataset a RAG namespace names, created (fulltext plus the given embedding model) on first use.</summary>
    public async Task<DatasetRecord> GetOrCreateNamespaceAsync(string workspaceId, string userId, string ns, string? embeddingModel, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await NamespaceAsync(workspaceId, ns, cancellationToken) is { } existing)
            {
                return existing;
            }

            var changes = new DatasetChanges { Name = ns, Description = $"RAG namespace '{ns}'", EmbeddingModel = embeddingModel };
            var dataset = await CreateAsync(workspaceId, userId, changes, ns, cancellationToken);
            if ((await _namespaces.InsertAsync(workspaceId, ns, new NamespaceEntry(dataset.Id), cancellationToken)).Succeeded)
            {
                return dataset;
            }

            // Another request created the namespace first: theirs wins, ours goes.
            await _datasets.DeleteAsync(workspaceId, dataset.Id, null, cancellationToken);
        }

        throw new InvalidOperationException($"The namespace '{ns}' could not be created.");
    }

    public async Task<DatasetRecord?> NamespaceAsync(string workspaceId, string ns, CancellationToken cancellationToken)
    {
        if (await _namespaces.FindAsync(workspaceId, ns, cancellationToken) is not { } entry)
        {
            return null;
        }

        if (await GetAsync(workspaceId, entry.Value.DatasetId, cancellationToken) is { } dataset)
        {
            return dataset;
        }

        // The dataset was deleted while its namespace row stayed behind: the namespace is free again.
        await _namespaces.DeleteAsync(workspaceId, ns, entry.ETag, cancellationToken);
        return null;
    }

    /// <summary>Whether the dataset holds any document: one index row read.</summary>
    public async Task<bool> HasDocumentsAsync(string workspaceId, string datasetId, CancellationToken cancellationToken) =>
        (await _documents.ListAsync(DocumentPartition(workspaceId, datasetId), new IndexQuery<DocumentRecord> { Order = "createdAt", Limit = 1 }, cancellationToken)).Items.Count > 0;

    /// <summary>Every document of a dataset, streamed in id order (for whole-dataset totals).</summary>
    public async IAsyncEnumerable<DocumentRecord> ScanDocumentsAsync(
        string workspaceId, string datasetId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var document in _documents.ScanAsync(DocumentPartition(workspaceId, datasetId), cancellationToken))
        {
            yield return document.Value;
        }
    }

    public async Task<DocumentRecord?> GetDocumentAsync(string workspaceId, string datasetId, string documentId, CancellationToken cancellationToken) =>
        (await _documents.GetAsync(DocumentPartition(workspaceId, datasetId), await DocumentKeyAsync(workspaceId, datasetId, documentId, cancellationToken), cancellationToken))?.Value;

    /// <summary>
    /// Records a (re-)upload: a new document, or the next version of an existing one, waiting for ingestion. The
    /// previous version's file goes once the record points at the new one.
    /// </summary>
    public async Task<DocumentRecord> PutDocumentAsync(string workspaceId, DocumentUpload upload, string batchId, CancellationToken cancellationToken)
    {
        var partition = DocumentPartition(workspaceId, upload.DatasetId);
        // Joined before the document names the batch: a re-upload that replaces it right after our write then finds the
        // row to mark as left. Joined after, its "left" could come first and our join would keep the batch open for ever.
        await batches.JoinAsync(workspaceId, upload.DatasetId, batchId, upload.DocumentId, cancellationToken);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var now = time.GetUtcNow();
            var current = await _documents.GetAsync(partition, await DocumentKeyAsync(workspaceId, upload.DatasetId, upload.DocumentId, cancellationToken), cancellationToken);
            var document = new DocumentRecord(upload.DocumentId, upload.DatasetId, upload.Title, upload.Source, upload.Format, upload.BlobName,
                upload.SizeBytes, upload.Metadata, DocumentStatus.Waiting, null, 0, 0, (current?.Value.Version ?? 0) + 1, batchId,
                current?.Value.CreatedAt ?? now, now, null);
            var written = current is null
                ? await _documents.InsertAsync(partition, document, cancellationToken)
                : await _documents.ReplaceAsync(partition, current, document, cancellationToken);
            if (written.Succeeded)
            {
                if (current is not null)
                {
                    if (current.Value.BatchId != batchId)
                    {
                        await batches.LeaveAsync(workspaceId, upload.DatasetId, current.Value.BatchId, document.Id, cancellationToken);
                    }

                    if (current.Value.BlobName != upload.BlobName)
                    {
                        await blobs.DeleteAsync(Container, current.Value.BlobName, cancellationToken);
                    }
                }

                return document;
            }
        }

        await batches.LeaveAsync(workspaceId, upload.DatasetId, batchId, upload.DocumentId, cancellationToken);
        throw new InvalidOperationException($"Document {upload.DocumentId} kept changing under ten attempts to replace it.");
    }

    /// <summary>
    /// Moves a document of this <paramref name="version"/> on; null when it was re-uploaded or deleted meanwhile (the
    /// caller then stops: a newer message owns the document).
    /// </summary>
    public async Task<DocumentRecord?> AdvanceAsync(string workspaceId, string datasetId, string documentId, int version,
        Func<DocumentRecord, DocumentRecord> change, CancellationToken cancellationToken)
    {
        var stale = false;
        var key = await DocumentKeyAsync(workspaceId, datasetId, documentId, cancellationToken);
        var updated = await _documents.UpdateAsync(DocumentPartition(workspaceId, datasetId), key, d =>
        {
            if (d.Version != version)
            {
                stale = true;
                return null;
            }

            return change(d) with { UpdatedAt = time.GetUtcNow() };
        }, cancellationToken);
        return stale ? null : updated?.Value;
    }

    /// <summary>Removes a document with its chunks, vectors and files.</summary>
    public async Task<bool> DeleteDocumentAsync(string workspaceId, string datasetId, string documentId, CancellationToken cancellationToken)
    {
        if (await GetDocumentAsync(workspaceId, datasetId, documentId, cancellationToken) is not { } document)
        {
            return false;
        }

        await _documents.DeleteAsync(DocumentPartition(workspaceId, datasetId), DocumentKey(documentId), null, cancellationToken);
        await index.Value.DeleteDocumentAsync(Collection(workspaceId, datasetId), documentId, cancellationToken);
        await batches.LeaveAsync(workspaceId, datasetId, document.BatchId, documentId, cancellationToken);
        await DeleteBlobsAsync($"{workspaceId}/{datasetId}/{documentId}/", cancellationToken);
        return true;
    }

    /// <summary>The row key of a document id (itself unless it is long).</summary>
    private static string DocumentKey(string id) =>
        id.Length <= MaxDirectKey ? id : id[..32] + "|" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..24];

    /// <summary>
    /// The row key of a document id; for a long one the partition is indexed first (a lookup in memory once done), so a
    /// row written under the raw id before the index existed has moved to where it is looked for.
    /// </summary>
    private async ValueTask<string> DocumentKeyAsync(string workspaceId, string datasetId, string id, CancellationToken cancellationToken)
    {
        if (id.Length > MaxDirectKey && IsValidDocumentId(id))
        {
            await _documents.EnsureIndexedAsync(DocumentPartition(workspaceId, datasetId), cancellationToken);
        }

        return DocumentKey(id);
    }

    public static string BlobNameFor(string workspaceId, string datasetId, string documentId) =>
        $"{workspaceId}/{datasetId}/{documentId}/{Guid.CreateVersion7():N}";

    private async Task DeleteBlobsAsync(string prefix, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (var blob in blobs.ListAsync(Container, prefix, cancellationToken))
        {
            names.Add(blob.Name);
        }

        foreach (var name in names)
        {
            await blobs.DeleteAsync(Container, name, cancellationToken);
        }
    }

    [GeneratedRegex("[^A-Za-z0-9._:-]")]
    private static partial Regex NotIdCharacter();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    private static partial Regex DocumentIdPattern();
}

/// <summary>A stored upload waiting to become (the next version of) a document.</summary>
internal sealed record DocumentUpload(
    string DatasetId, string DocumentId, string Title, string Source, string Format, string BlobName, long SizeBytes, System.Text.Json.Nodes.JsonObject Metadata);
