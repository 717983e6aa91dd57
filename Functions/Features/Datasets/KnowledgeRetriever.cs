using System.Text;
using Serverless.Functions.Platform.Search;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// <see cref="IKnowledgeRetriever"/> over the search index: datasets are looked up in the request's workspace only,
/// the query is embedded once per embedding model (datasets grouped by model) when the mode needs vectors, each
/// group is searched, and the best chunks overall are numbered [1..n] into a prompt-ready context.
/// </summary>
internal sealed class KnowledgeRetriever(DatasetStore store, Lazy<ISearchIndex> index, DatasetEmbedder embedder) : IKnowledgeRetriever
{
    public const int MaxTopK = 100;
    public const int MaxDatasets = 20;
    public const int MaxQueryChars = 4000;

    public async Task<KnowledgeOutcome> RetrieveAsync(KnowledgeRequest request, CancellationToken cancellationToken)
    {
        if (request.DatasetIds.Count is 0 or > MaxDatasets)
        {
            return new KnowledgeOutcome.Invalid("datasetIds", $"Name 1 to {MaxDatasets} datasets.");
        }

        if (string.IsNullOrWhiteSpace(request.Query) || request.Query.Length > MaxQueryChars)
        {
            return new KnowledgeOutcome.Invalid("query", $"query must be a non-empty text of at most {MaxQueryChars} characters.");
        }

        if (request.TopK is < 1 or > MaxTopK)
        {
            return new KnowledgeOutcome.Invalid("topK", $"topK must be from 1 to {MaxTopK}.");
        }

        var parsed = SearchFilters.Parse(request.Filter);
        if (!parsed.IsValid)
        {
            return new KnowledgeOutcome.Invalid(parsed.Errors[0].Field, parsed.Errors[0].Message);
        }

        var datasets = new List<DatasetRecord>();
        foreach (var id in request.DatasetIds.Distinct(StringComparer.Ordinal))
        {
            if (await store.GetAsync(request.WorkspaceId, id, cancellationToken) is not { } dataset)
            {
                return new KnowledgeOutcome.NotFound(id);
            }

            datasets.Add(dataset);
        }

        var mode = request.Mode ?? DefaultMode(datasets);
        if (mode != SearchMode.Fulltext && datasets.FirstOrDefault(d => d.EmbeddingModel is null) is { } plain)
        {
            return new KnowledgeOutcome.Invalid("mode",
                $"Dataset '{plain.Name}' ({plain.Id}) has no embedding model, so it serves fulltext search only; use mode fulltext or give it an embeddingModel.");
        }

        var hits = new List<SearchHit>();
        var groups = mode == SearchMode.Fulltext
            ? [datasets.GroupBy(_ => (string?)null).Single()]
            : datasets.GroupBy(d => d.EmbeddingModel).ToList();
        foreach (var group in groups)
        {
            float[]? vector = null;
            try
            {
                vector = group.Key is { } model ? (await embedder.EmbedAsync(request.WorkspaceId, model, [request.Query], cancellationToken))[0] : null;
            }
            catch (DatasetModelException e)
            {
                return new KnowledgeOutcome.ModelFailed(e.Failure, e.Retryable);
            }

            var collections = group.Select(d => DatasetStore.Collection(request.WorkspaceId, d.Id)).ToList();
            try
            {
                hits.AddRange(await index.Value.SearchAsync(collections, new SearchQuery(request.Query, vector, mode, request.TopK, parsed.Filter), cancellationToken));
            }
            catch (ArgumentException e)
            {
                // The port's contract: a query it cannot run (vectors of another length than the model now returns, a
                // filter the adapter cannot express) is the caller's to fix, with a message it can show.
                return new KnowledgeOutcome.Invalid(mode == SearchMode.Fulltext ? "filter" : "mode", e.Message);
            }
        }

        var chunks = hits
            .Where(h => request.ScoreThreshold is not { } threshold || h.Score >= threshold)
            .OrderByDescending(h => h.Score)
            .Take(request.TopK)
            .Select((h, i) => new KnowledgeChunk(i + 1, h.Collection.DatasetId, h.Chunk.DocumentId, h.Chunk.ChunkId, h.Chunk.Title, h.Chunk.Content,
                (System.Text.Json.Nodes.JsonObject)h.Chunk.Metadata.DeepClone(), h.Score))
            .ToList();
        return new KnowledgeOutcome.Found(chunks, Context(chunks), mode);
    }

    /// <summary>Each chunk under its citation number and title, so a model can cite [n].</summary>
    public static string Context(IReadOnlyList<KnowledgeChunk> chunks)
    {
        var context = new StringBuilder();
        foreach (var chunk in chunks)
        {
            context.Append('[').Append(chunk.Citation).Append("] ").Append(chunk.Title).Append('\n').Append(chunk.Content).Append("\n\n");
        }

        return context.ToString().TrimEnd();
    }

    /// <summary>The mode a search gets when it names none: hybrid when every dataset has an embedding model, else fulltext.</summary>
    private static SearchMode DefaultMode(IEnumerable<DatasetRecord> datasets) =>
        datasets.All(d => d.EmbeddingModel is not null) ? SearchMode.Hybrid : SearchMode.Fulltext;
}
