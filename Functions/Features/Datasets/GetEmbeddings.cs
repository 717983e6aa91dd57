using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

/// <summary>FastGPT's embedding status: per-document status and progress, and the dataset's totals (documents by status, chunks, vectors).</summary>
internal static class GetEmbeddings
{
    internal sealed record DocumentStatusDto(string Id, string Title, string Status, string? Error, DocumentProgress Progress);

    internal sealed record Summary(
        string DatasetId, string? EmbeddingModel, int Documents, IReadOnlyDictionary<string, int> ByStatus, int ChunksDone, int ChunksTotal,
        long IndexedChunks, long IndexedVectors, bool Completed, IReadOnlyList<DocumentStatusDto> Items);

    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, DatasetStore store, ISearchIndex index, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } dataset)
        {
            return Api.NotFound("The dataset was not found.");
        }

        var documents = await store.ListDocumentsAsync(workspace.WorkspaceId, id, cancellationToken);
        var stats = await index.GetStatsAsync(DatasetStore.Collection(workspace.WorkspaceId, id), cancellationToken);
        var byStatus = DocumentStatus.All.ToDictionary(s => s, s => documents.Count(d => d.Status == s));
        var items = documents.OrderBy(d => d.CreatedAt).Select(d => new DocumentStatusDto(d.Id, d.Title, d.Status, d.Error, DocumentDto.From(d).Progress)).ToList();
        return Api.Ok(new Summary(id, dataset.EmbeddingModel, documents.Count, byStatus, documents.Sum(d => d.ChunksDone), documents.Sum(d => d.ChunksTotal),
            stats.Chunks, stats.ChunksWithVectors, documents.All(d => DocumentStatus.IsFinal(d.Status)), items));
    }
}
