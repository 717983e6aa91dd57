using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// FastGPT's embedding status: the dataset's totals (documents by status, chunks, vectors) and per-document status and
/// progress, oldest document first, paged like every list (the envelope's <c>pagination</c> is the items').
/// </summary>
internal static class GetEmbeddings
{
    internal sealed record DocumentStatusDto(string Id, string Title, string Status, string? Error, DocumentProgress Progress);

    internal sealed record Summary(
        string DatasetId, string? EmbeddingModel, int Documents, IReadOnlyDictionary<string, int> ByStatus, int ChunksDone, int ChunksTotal,
        long IndexedChunks, long IndexedVectors, bool Completed, IReadOnlyList<DocumentStatusDto> Items);

    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, DatasetStore store, ISearchIndex index, CancellationToken cancellationToken)
    {
        var list = store.Documents with { DefaultOrder = "createdAt", DefaultDescending = false };
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } dataset)
        {
            return Api.NotFound("The dataset was not found.");
        }

        // The totals are over every document by nature: counted while streaming, never held.
        var byStatus = DocumentStatus.All.ToDictionary(s => s, _ => 0);
        var (documents, chunksDone, chunksTotal, completed) = (0, 0, 0, true);
        await foreach (var document in store.ScanDocumentsAsync(workspace.WorkspaceId, id, cancellationToken))
        {
            if (byStatus.TryGetValue(document.Status, out var count))
            {
                byStatus[document.Status] = count + 1;
            }

            (documents, chunksDone, chunksTotal) = (documents + 1, chunksDone + document.ChunksDone, chunksTotal + document.ChunksTotal);
            completed &= DocumentStatus.IsFinal(document.Status);
        }

        var page = await IndexedPaging.PageAsync(
            list, DatasetStore.DocumentPartition(workspace.WorkspaceId, id), query with { Status = null, Search = null }, null, cancellationToken);
        if (page is null)
        {
            return IndexedPaging.InvalidCursor();
        }

        var stats = await index.GetStatsAsync(DatasetStore.Collection(workspace.WorkspaceId, id), cancellationToken);
        var items = page.Items.Select(d => new DocumentStatusDto(d.Id, d.Title, d.Status, d.Error, DocumentDto.From(d).Progress)).ToList();
        return new ApiResult<Summary>(StatusCodes.Status200OK, new Summary(id, dataset.EmbeddingModel, documents, byStatus, chunksDone, chunksTotal,
            stats.Chunks, stats.ChunksWithVectors, completed, items))
        {
            Pagination = page.Pagination,
            Total = page.Total,
            PageNumber = page.PageNumber,
        };
    }
}
