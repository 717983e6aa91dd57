using System.Text.Json.Nodes;

namespace Serverless.Functions.Platform.Search;

/// <summary>
/// The search index port: chunks of documents, searchable by BM25 full text, by vector (cosine) and by both fused
/// (reciprocal-rank fusion), with metadata filters applied inside the query. The embedded default is SQLite FTS5 +
/// exact cosine; the Azure adapter is Azure AI Search. Selected by <c>Search:Provider = Local|AzureAISearch</c>.
/// </summary>
/// <remarks>
/// A collection is one dataset of one workspace (<see cref="SearchCollection"/>); a query may span several
/// collections of one workspace. Feature code never builds a collection for another workspace's data.
/// </remarks>
internal interface ISearchIndex
{
    /// <summary>
    /// Replaces every chunk of each document named in <paramref name="chunks"/> with the given ones (a document
    /// re-indexed with fewer chunks loses the rest). Vectors are optional; when present they all have one length
    /// per collection.
    /// </summary>
    Task UpsertDocumentChunksAsync(SearchCollection collection, IReadOnlyList<IndexedChunk> chunks, CancellationToken cancellationToken);

    /// <summary>Removes a document's chunks and vectors; false when the collection held none of them.</summary>
    Task<bool> DeleteDocumentAsync(SearchCollection collection, string documentId, CancellationToken cancellationToken);

    /// <summary>Removes a whole collection (dataset delete).</summary>
    Task DeleteCollectionAsync(SearchCollection collection, CancellationToken cancellationToken);

    /// <summary>Counts chunks, and chunks that carry a vector.</summary>
    Task<CollectionStats> GetStatsAsync(SearchCollection collection, CancellationToken cancellationToken);

    /// <summary>
    /// Searches the given collections (all of one workspace). Full text needs <see cref="SearchQuery.Text"/>,
    /// vector needs <see cref="SearchQuery.Vector"/>, hybrid both. Hits come best first, at most TopK, with scores
    /// where higher is better (BM25 negated and normalised, cosine similarity, or the fused RRF score scaled to (0, 1], 1 for first in both rankings).
    /// </summary>
    /// <remarks>
    /// Hits carry no vector (<see cref="IndexedChunk.Vector"/> is null). Bad arguments — collections of several
    /// workspaces, TopK outside 1..1000, a vector of another length than the collection's, a filter the adapter cannot
    /// run (Azure AI Search: ranges) — are <see cref="ArgumentException"/>s whose message a caller can show (422).
    /// User text is never query syntax: adapters search its words.
    /// </remarks>
    Task<IReadOnlyList<SearchHit>> SearchAsync(IReadOnlyList<SearchCollection> collections, SearchQuery query, CancellationToken cancellationToken);
}

/// <summary>One dataset of one workspace.</summary>
internal readonly record struct SearchCollection(string WorkspaceId, string DatasetId);

internal enum SearchMode
{
    Fulltext,
    Vector,
    Hybrid,
}

/// <summary>A chunk as stored. <see cref="Metadata"/> holds the document's metadata (scalars: string, number, bool).</summary>
internal sealed record IndexedChunk(
    string ChunkId,
    string DocumentId,
    int Position,
    string Title,
    string Content,
    JsonObject Metadata,
    float[]? Vector);

internal sealed record SearchQuery(string? Text, float[]? Vector, SearchMode Mode, int TopK, SearchFilter? Filter);

internal sealed record SearchHit(SearchCollection Collection, IndexedChunk Chunk, double Score);

internal sealed record CollectionStats(long Chunks, long ChunksWithVectors);

/// <summary>
/// A metadata filter: <c>{"topic":"billing"}</c>, <c>{"year":{"gte":2020,"lt":2025}}</c>, <c>{"topic":{"in":["a","b"]}}</c>,
/// combined with <c>{"$and":[…]}</c> / <c>{"$or":[…]}</c>. Several keys in one object mean AND.
/// </summary>
internal abstract record SearchFilter
{
    private SearchFilter()
    {
    }

    internal sealed record Equal(string Field, JsonValue Value) : SearchFilter;

    internal sealed record In(string Field, IReadOnlyList<JsonValue> Values) : SearchFilter;

    /// <summary>A range; bounds that are null are open. Numbers compare as numbers, strings ordinally.</summary>
    internal sealed record Range(string Field, JsonValue? Gt, JsonValue? Gte, JsonValue? Lt, JsonValue? Lte) : SearchFilter;

    internal sealed record And(IReadOnlyList<SearchFilter> Filters) : SearchFilter;

    internal sealed record Or(IReadOnlyList<SearchFilter> Filters) : SearchFilter;
}
