using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Identity;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using Azure.Search.Documents.Indexes.Models;
using Azure.Search.Documents.Models;
using Microsoft.Extensions.Options;
using AzureSearchOptions = Azure.Search.Documents.SearchOptions;
using AzureSearchMode = Azure.Search.Documents.Models.SearchMode;

namespace Serverless.Functions.Platform.Search;

/// <summary>
/// The search index on Azure AI Search: one index (created when missing) holds every workspace's chunks, and every
/// query is filtered by workspace and dataset. Metadata is kept as a JSON string for reading back, and as
/// <c>metadataPairs</c>, a filterable collection of <c>key=value</c> strings, for equality and <c>in</c> filters, and as
/// <c>metadataNumbers</c>/<c>metadataStrings</c>, collections of <c>{key, value}</c> with a typed value, for ranges
/// (<c>metadataNumbers/any(m: m/key eq 'year' and m/value ge 2020)</c>): arbitrary keys cannot have index fields of
/// their own, but a lambda over a complex collection compares one entry's key and value together.
/// </summary>
/// <remarks>
/// A range on booleans, or with bounds of two kinds, is refused with an <see cref="ArgumentException"/>. Azure AI Search has no transactions, so a re-indexed document is
/// written first and its surplus chunks deleted after: a reader may briefly see both versions.
/// </remarks>
internal sealed class AzureAiSearchIndex : ISearchIndex
{
    public const string VectorProfile = "chunk-vectors";
    public const string VectorAlgorithm = "chunk-hnsw";
    public const string SemanticConfigurationName = "chunks";

    // One batch of the REST API holds at most 1,000 actions.
    private const int BatchSize = 1000;
    private const int HybridDepthFloor = 60;

    private static readonly string[] RetrievedFields = ["id", "workspaceId", "datasetId", "documentId", "chunkId", "position", "title", "content", "metadata"];

    // Only what JSON requires is escaped, so a pair reads as written; quotes are the OData literal's job (Literal).
    private static readonly JsonSerializerOptions PairJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly AzureAiSearchOptions _settings;
    private readonly SearchIndexClient _indexClient;
    private readonly SearchClient _client;
    private readonly ILogger<AzureAiSearchIndex> _logger;
    private readonly SemaphoreSlim _ensureLock = new(1, 1);
    private volatile bool _indexReady;

    public AzureAiSearchIndex(IOptions<SearchOptions> options, ILogger<AzureAiSearchIndex> logger)
        : this(options.Value.AzureAISearch, new SearchClientOptions(), logger)
    {
    }

    /// <summary>With client options of the caller's: tests point the SDK's transport at a fake service.</summary>
    internal AzureAiSearchIndex(AzureAiSearchOptions settings, SearchClientOptions clientOptions, ILogger<AzureAiSearchIndex> logger)
    {
        _settings = settings;
        _logger = logger;
        var endpoint = new Uri(settings.Endpoint ?? throw new InvalidOperationException("Search:AzureAISearch:Endpoint is not set."));
        _indexClient = string.IsNullOrEmpty(settings.ApiKey)
            ? new SearchIndexClient(endpoint, new DefaultAzureCredential(), clientOptions)
            : new SearchIndexClient(endpoint, new AzureKeyCredential(settings.ApiKey), clientOptions);
        _client = _indexClient.GetSearchClient(settings.IndexName);
    }

    /// <summary>The index definition this adapter creates: also what a test compares with what the SDK sent.</summary>
    public static SearchIndex Definition(string name, int dimensions) => new(name)
    {
        Fields =
        {
            new SimpleField("id", SearchFieldDataType.String) { IsKey = true, IsFilterable = true, IsSortable = true },
            new SimpleField("workspaceId", SearchFieldDataType.String) { IsFilterable = true },
            new SimpleField("datasetId", SearchFieldDataType.String) { IsFilterable = true },
            new SimpleField("documentId", SearchFieldDataType.String) { IsFilterable = true },
            new SimpleField("chunkId", SearchFieldDataType.String) { IsFilterable = true },
            new SimpleField("position", SearchFieldDataType.Int32) { IsSortable = true },
            new SearchableField("title"),
            new SearchableField("content"),
            new SimpleField("metadata", SearchFieldDataType.String),
            new SimpleField("metadataPairs", SearchFieldDataType.Collection(SearchFieldDataType.String)) { IsFilterable = true },
            TypedMetadata(NumbersField, SearchFieldDataType.Double),
            TypedMetadata(StringsField, SearchFieldDataType.String),
            new SimpleField("hasVector", SearchFieldDataType.Boolean) { IsFilterable = true },
            new SearchField("vector", SearchFieldDataType.Collection(SearchFieldDataType.Single))
            {
                IsSearchable = true,
                IsHidden = true,
                VectorSearchDimensions = dimensions,
                VectorSearchProfileName = VectorProfile,
            },
        },
        VectorSearch = new VectorSearch
        {
            Profiles = { new VectorSearchProfile(VectorProfile, VectorAlgorithm) },
            Algorithms = { new HnswAlgorithmConfiguration(VectorAlgorithm) { Parameters = new HnswParameters { Metric = VectorSearchAlgorithmMetric.Cosine } } },
        },
        SemanticSearch = new SemanticSearch
        {
            Configurations =
            {
                new SemanticConfiguration(SemanticConfigurationName, new SemanticPrioritizedFields
                {
                    TitleField = new SemanticField("title"),
                    ContentFields = { new SemanticField("content") },
                }),
            },
        },
    };

    private const string NumbersField = "metadataNumbers";
    private const string StringsField = "metadataStrings";

    private static ComplexField TypedMetadata(string name, SearchFieldDataType valueType) => new(name, collection: true)
    {
        Fields =
        {
            new SimpleField("key", SearchFieldDataType.String) { IsFilterable = true },
            new SimpleField("value", valueType) { IsFilterable = true },
        },
    };

    /// <summary>The index key of a chunk: a hash, because keys allow only letters, digits, <c>_</c>, <c>-</c> and <c>=</c>.</summary>
    public static string KeyOf(SearchCollection collection, string chunkId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{collection.WorkspaceId}\n{collection.DatasetId}\n{chunkId}")));

    /// <summary>The <c>metadataPairs</c> entry of one scalar: the key, <c>=</c>, and the value as canonical JSON.</summary>
    public static string Pair(string key, JsonValue value) => key + "=" + SearchFilters.KindOf(value) switch
    {
        JsonValueKind.Number => value.GetValue<double>().ToString("R", CultureInfo.InvariantCulture),
        JsonValueKind.String => JsonSerializer.Serialize(value.GetValue<string>(), PairJson),
        _ => value.GetValueKind() == JsonValueKind.True ? "true" : "false",
    };

    /// <summary>An OData string literal: quotes doubled, so a value can never end the literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    public async Task UpsertDocumentChunksAsync(SearchCollection collection, IReadOnlyList<IndexedChunk> chunks, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        var dimensions = SearchArguments.CheckChunks(chunks);
        if (dimensions != 0 && dimensions != _settings.Dimensions)
        {
            throw new ArgumentException($"Vectors have {dimensions} dimensions, but the search index holds vectors of {_settings.Dimensions} (Search:AzureAISearch:Dimensions).", nameof(chunks));
        }

        if (chunks.Count == 0)
        {
            return;
        }

        await EnsureIndexAsync(cancellationToken);
        var documents = chunks.Select(c => c.DocumentId).Distinct(StringComparer.Ordinal).ToList();
        var existing = await KeysAsync(Scope([collection]) + " and (" + string.Join(" or ", documents.Select(d => "documentId eq " + Literal(d))) + ")", cancellationToken);

        var uploads = chunks.Select(c => ToDocument(collection, c)).ToList();
        foreach (var batch in uploads.Chunk(BatchSize))
        {
            await _client.IndexDocumentsAsync(IndexDocumentsBatch.Upload(batch), new IndexDocumentsOptions { ThrowOnAnyError = true }, cancellationToken);
        }

        var kept = uploads.Select(d => (string)d["id"]).ToHashSet(StringComparer.Ordinal);
        await DeleteKeysAsync(existing.Where(k => !kept.Contains(k)).ToList(), cancellationToken);
    }

    public async Task<bool> DeleteDocumentAsync(SearchCollection collection, string documentId, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await EnsureIndexAsync(cancellationToken);
        var keys = await KeysAsync(Scope([collection]) + " and documentId eq " + Literal(documentId), cancellationToken);
        await DeleteKeysAsync(keys, cancellationToken);
        return keys.Count > 0;
    }

    public async Task DeleteCollectionAsync(SearchCollection collection, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        await EnsureIndexAsync(cancellationToken);
        await DeleteKeysAsync(await KeysAsync(Scope([collection]), cancellationToken), cancellationToken);
    }

    public async Task<CollectionStats> GetStatsAsync(SearchCollection collection, CancellationToken cancellationToken)
    {
        SearchArguments.CheckCollection(collection);
        await EnsureIndexAsync(cancellationToken);
        var scope = Scope([collection]);
        return new CollectionStats(await CountAsync(scope, cancellationToken), await CountAsync(scope + " and hasVector eq true", cancellationToken));
    }

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(IReadOnlyList<SearchCollection> collections, SearchQuery query, CancellationToken cancellationToken)
    {
        SearchArguments.CheckQuery(collections, query);
        if (query.Vector is { } queryVector && query.Mode != SearchMode.Fulltext && queryVector.Length != _settings.Dimensions)
        {
            throw new ArgumentException($"The query vector has {queryVector.Length} dimensions, but the search index holds vectors of {_settings.Dimensions}.", nameof(query));
        }

        // Translated before any request, so an unsupported filter fails without touching the service.
        var filter = Scope(collections) + (query.Filter is null ? "" : " and " + ODataFilter(query.Filter));
        if (collections.Count == 0)
        {
            return [];
        }

        var words = query.Mode == SearchMode.Vector ? new List<string>() : SearchArguments.Words(query.Text!);
        if (query.Mode == SearchMode.Fulltext && words.Count == 0)
        {
            return [];
        }

        await EnsureIndexAsync(cancellationToken);
        var options = new AzureSearchOptions
        {
            Filter = filter,
            Size = query.TopK,
            QueryType = SearchQueryType.Simple,
            SearchMode = AzureSearchMode.Any,
        };
        foreach (var field in RetrievedFields)
        {
            options.Select.Add(field);
        }

        if (query.Mode != SearchMode.Fulltext)
        {
            var depth = query.Mode == SearchMode.Hybrid ? Math.Min(SearchArguments.MaxTopK, Math.Max(query.TopK * 3, HybridDepthFloor)) : query.TopK;
            options.VectorSearch = new VectorSearchOptions
            {
                // Filter first, then take the nearest: otherwise the filter would thin out an already cut top k.
                FilterMode = VectorFilterMode.PreFilter,
                Queries = { new VectorizedQuery(query.Vector!) { KNearestNeighborsCount = depth, Fields = { "vector" } } },
            };
        }

        // Words only, space-separated: the simple query syntax's operators (+ - | " * ( )) never come from the user.
        var text = words.Count == 0 ? null : string.Join(' ', words);
        var response = await _client.SearchAsync<SearchDocument>(text, options, cancellationToken);
        var hits = new List<SearchHit>(query.TopK);
        await foreach (var result in response.Value.GetResultsAsync().WithCancellation(cancellationToken))
        {
            hits.Add(ToHit(result.Document, Score(query.Mode, result.Score ?? 0)));
            if (hits.Count == query.TopK)
            {
                break;
            }
        }

        return hits;
    }

    /// <summary>The OData filter for metadata (see the class summary for the fields it reads).</summary>
    public static string ODataFilter(SearchFilter filter) => filter switch
    {
        SearchFilter.Equal eq => $"metadataPairs/any(p: p eq {Literal(Pair(CheckedField(eq.Field), eq.Value))})",
        SearchFilter.In any => "metadataPairs/any(p: " + string.Join(" or ", any.Values.Select(v => "p eq " + Literal(Pair(CheckedField(any.Field), v)))) + ")",
        SearchFilter.Range range => RangeFilter(range),
        SearchFilter.And and => and.Filters.Count == 0 ? "true" : "(" + string.Join(" and ", and.Filters.Select(ODataFilter)) + ")",
        SearchFilter.Or or => or.Filters.Count == 0 ? "false" : "(" + string.Join(" or ", or.Filters.Select(ODataFilter)) + ")",
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown filter kind."),
    };

    private static string RangeFilter(SearchFilter.Range range)
    {
        var field = Literal(CheckedField(range.Field));
        var bounds = new (string Op, JsonValue? Value)[] { ("gt", range.Gt), ("ge", range.Gte), ("lt", range.Lt), ("le", range.Lte) }
            .Where(b => b.Value is not null).Select(b => (b.Op, Value: b.Value!, Kind: SearchFilters.KindOf(b.Value!))).ToList();
        if (bounds.Count == 0)
        {
            // Like the embedded index: a range without bounds only asks that the field be there.
            return $"({NumbersField}/any(m: m/key eq {field}) or {StringsField}/any(m: m/key eq {field}) or " +
                $"metadataPairs/any(p: p eq {Literal(range.Field + "=true")} or p eq {Literal(range.Field + "=false")}))";
        }

        var kind = bounds[0].Kind;
        if (kind is not (JsonValueKind.Number or JsonValueKind.String) || bounds.Any(b => b.Kind != kind))
        {
            throw new ArgumentException($"The range on '{range.Field}' needs bounds that are all numbers or all strings.", nameof(range));
        }

        var collection = kind == JsonValueKind.Number ? NumbersField : StringsField;
        var conditions = bounds.Select(b => $"m/value {b.Op} " + (kind == JsonValueKind.Number ? NumberLiteral(b.Value) : Literal(b.Value.GetValue<string>())));
        return $"{collection}/any(m: m/key eq {field} and {string.Join(" and ", conditions)})";
    }

    private static string NumberLiteral(JsonValue value) => value.GetValue<double>().ToString("R", CultureInfo.InvariantCulture);

    private static string CheckedField(string field) =>
        SearchFilters.IsValidFieldName(field) ? field : throw new ArgumentException($"'{field}' is not a valid metadata field name.", nameof(field));

    private static string Scope(IReadOnlyList<SearchCollection> collections) => collections.Count == 0
        ? "false"
        : $"workspaceId eq {Literal(collections[0].WorkspaceId)} and (" + string.Join(" or ", collections.Distinct().Select(c => "datasetId eq " + Literal(c.DatasetId))) + ")";

    // Azure scores cosine as 1 / (1 + (1 - cos)); the port promises the cosine itself. BM25 is squashed into [0, 1)
    // as the embedded index does; hybrid is Azure's own RRF score (k = 60), scaled as the embedded index scales its own.
    private static double Score(SearchMode mode, double score) => mode switch
    {
        SearchMode.Vector => score > 0 ? 2 - (1 / score) : -1,
        SearchMode.Fulltext => score / (1 + score),
        _ => SearchArguments.ScaleFused(score),
    };

    private static SearchDocument ToDocument(SearchCollection collection, IndexedChunk chunk)
    {
        var pairs = new List<string>();
        var numbers = new List<Dictionary<string, object>>();
        var strings = new List<Dictionary<string, object>>();
        foreach (var (key, value) in chunk.Metadata)
        {
            if (value is JsonValue scalar && SearchFilters.IsValidFieldName(key) && SearchFilters.KindOf(scalar) is JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True)
            {
                pairs.Add(Pair(key, scalar));
                switch (SearchFilters.KindOf(scalar))
                {
                    case JsonValueKind.Number:
                        numbers.Add(new() { ["key"] = key, ["value"] = scalar.GetValue<double>() });
                        break;
                    case JsonValueKind.String:
                        strings.Add(new() { ["key"] = key, ["value"] = scalar.GetValue<string>() });
                        break;
                }
            }
        }

        return new SearchDocument
        {
            ["id"] = KeyOf(collection, chunk.ChunkId),
            ["workspaceId"] = collection.WorkspaceId,
            ["datasetId"] = collection.DatasetId,
            ["documentId"] = chunk.DocumentId,
            ["chunkId"] = chunk.ChunkId,
            ["position"] = chunk.Position,
            ["title"] = chunk.Title,
            ["content"] = chunk.Content,
            ["metadata"] = chunk.Metadata.ToJsonString(),
            ["metadataPairs"] = pairs,
            [NumbersField] = numbers,
            [StringsField] = strings,
            ["hasVector"] = chunk.Vector is not null,
            ["vector"] = chunk.Vector,
        };
    }

    private static SearchHit ToHit(SearchDocument document, double score)
    {
        var metadata = document.TryGetValue("metadata", out var raw) && raw is string json ? JsonNode.Parse(json) as JsonObject : null;
        var chunk = new IndexedChunk(
            document.GetString("chunkId"), document.GetString("documentId"), document.GetInt32("position") ?? 0,
            document.GetString("title") ?? "", document.GetString("content") ?? "", metadata ?? [], null);
        return new SearchHit(new SearchCollection(document.GetString("workspaceId"), document.GetString("datasetId")), chunk, score);
    }

    // Keyset paging by id: unlike skip (capped at 100,000) it reaches every chunk of a large collection.
    private async Task<List<string>> KeysAsync(string filter, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        while (true)
        {
            var options = new AzureSearchOptions
            {
                Filter = keys.Count == 0 ? filter : $"({filter}) and id gt {Literal(keys[^1])}",
                Size = BatchSize,
                Select = { "id" },
                OrderBy = { "id asc" },
            };
            var response = await _client.SearchAsync<SearchDocument>(null, options, cancellationToken);
            var page = 0;
            await foreach (var result in response.Value.GetResultsAsync().WithCancellation(cancellationToken))
            {
                keys.Add(result.Document.GetString("id"));
                if (++page == BatchSize)
                {
                    break;
                }
            }

            if (page < BatchSize)
            {
                return keys;
            }
        }
    }

    private async Task DeleteKeysAsync(List<string> keys, CancellationToken cancellationToken)
    {
        foreach (var batch in keys.Chunk(BatchSize))
        {
            await _client.IndexDocumentsAsync(IndexDocumentsBatch.Delete("id", batch), new IndexDocumentsOptions { ThrowOnAnyError = true }, cancellationToken);
        }
    }

    private async Task<long> CountAsync(string filter, CancellationToken cancellationToken)
    {
        var options = new AzureSearchOptions { Filter = filter, Size = 0, IncludeTotalCount = true };
        var response = await _client.SearchAsync<SearchDocument>(null, options, cancellationToken);
        return response.Value.TotalCount ?? 0;
    }

    private async Task EnsureIndexAsync(CancellationToken cancellationToken)
    {
        if (_indexReady)
        {
            return;
        }

        await _ensureLock.WaitAsync(cancellationToken);
        try
        {
            if (_indexReady)
            {
                return;
            }

            try
            {
                await _indexClient.GetIndexAsync(_settings.IndexName, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                try
                {
                    await _indexClient.CreateIndexAsync(Definition(_settings.IndexName, _settings.Dimensions), cancellationToken);
                    SearchLog.AzureIndexCreated(_logger, _settings.IndexName);
                }
                catch (RequestFailedException conflict) when (conflict.Status == 409)
                {
                    // Another instance created it first: that is all this wanted.
                }
            }

            _indexReady = true;
        }
        finally
        {
            _ensureLock.Release();
        }
    }
}
