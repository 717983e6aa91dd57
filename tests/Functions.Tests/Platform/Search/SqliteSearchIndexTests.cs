using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Tests.Platform.Search;

public sealed class SqliteSearchIndexTests : SearchIndexConformance
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "search-index-" + Guid.NewGuid().ToString("N"));
    private readonly List<SqliteSearchIndex> _opened = [];

    [Fact]
    public async Task Index_SurvivesAReopen_VectorsAndTextIncluded()
    {
        await UpsertAsync(Chunk("d1", 0, "persisted words", new { k = "v" }, [0.6f, 0.8f]));

        var reopened = Open();
        var hits = await reopened.SearchAsync([Kb], new SearchQuery("persisted", [0.6f, 0.8f], SearchMode.Hybrid, 5, null), Cancellation);

        Assert.Equal("d1#0", Assert.Single(hits).Chunk.ChunkId);
        var vector = await reopened.SearchAsync([Kb], new SearchQuery(null, [3, 4], SearchMode.Vector, 5, null), Cancellation);
        Assert.Equal(1.0, Assert.Single(vector).Score, 5);
    }

    [Fact]
    public async Task Writes_AfterTheVectorsWereCached_AreSeenByTheNextSearch()
    {
        await UpsertAsync(Chunk("d1", 0, "a", vector: [1, 0]), Chunk("d2", 0, "b", vector: [0, 1]));
        Assert.Equal("d1#0", (await SearchAsync(null, [1, 0], SearchMode.Vector))[0].Chunk.ChunkId);

        await UpsertAsync(Chunk("d3", 0, "c", vector: [1, 0.01f]));
        await Index.DeleteDocumentAsync(Kb, "d1", Cancellation);
        await UpsertAsync(Chunk("d2", 0, "b2", vector: [1, 0.001f]));

        var hits = await SearchAsync(null, [1, 0], SearchMode.Vector);
        Assert.Equal(["d2#0", "d3#0"], hits.Select(h => h.Chunk.ChunkId));
        Assert.Equal("b2", hits[0].Chunk.Content);
    }

    [Fact]
    public async Task VectorFilters_AfterWrites_SeeTheNewMetadata_AndNotTheRemoved()
    {
        await UpsertAsync(Chunk("a", 0, "x", new { topic = "billing", year = 2020 }, [1, 0]), Chunk("b", 0, "x", new { topic = "legal", year = 2021 }, [1, 0]));
        const string filter = """{"topic":"billing","year":{"gte":2020}}""";
        Assert.Equal(["a#0"], (await SearchAsync(null, [1, 0], SearchMode.Vector, filter: filter)).Select(h => h.Chunk.ChunkId));

        await UpsertAsync(Chunk("b", 0, "x", new { topic = "billing", year = 2022 }, [1, 0]));
        await UpsertAsync(Chunk("a", 0, "x", new { topic = "billing", year = "2020" }, [1, 0]));
        await UpsertAsync(Chunk("c", 0, "x", new { topic = "billing", year = 2023 }, [0, 1]));

        var hits = await SearchAsync(null, [1, 0], SearchMode.Vector, filter: filter);
        Assert.Equal(["b#0", "c#0"], hits.Select(h => h.Chunk.ChunkId));
    }

    [Fact]
    public async Task VectorLength_MayChange_OnceTheCollectionHoldsNoVectors()
    {
        await UpsertAsync(Chunk("d1", 0, "x", vector: [1, 0, 0]));
        Assert.Single(await SearchAsync(null, [1, 0, 0], SearchMode.Vector));

        await Index.DeleteDocumentAsync(Kb, "d1", Cancellation);
        await UpsertAsync(Chunk("d1", 0, "x", vector: [0, 1]));

        Assert.Equal(1.0, Assert.Single(await SearchAsync(null, [0, 3], SearchMode.Vector)).Score, 5);
        await Assert.ThrowsAsync<ArgumentException>(() => SearchAsync(null, [1, 0, 0], SearchMode.Vector));
    }

    [Fact]
    public async Task VectorQuery_OfANewLength_OnACollectionWhoseVectorsAreAllGone_FindsNothing_InsteadOfFailing()
    {
        // A dataset's documents deleted, then its embedding model changed: the next search embeds with the new model
        // before any upload sets the collection's new length.
        await UpsertAsync(Chunk("d1", 0, "old words", vector: [1, 0, 0]));
        Assert.Single(await SearchAsync(null, [1, 0, 0], SearchMode.Vector));
        await Index.DeleteDocumentAsync(Kb, "d1", Cancellation);

        Assert.Empty(await SearchAsync(null, [0, 1], SearchMode.Vector));
        Assert.Empty(await SearchAsync("old", [0, 1], SearchMode.Hybrid));
        Assert.Empty(await Open().SearchAsync([Kb], new SearchQuery(null, [0, 1], SearchMode.Vector, 5, null), Cancellation));
    }

    [Fact]
    public async Task ParallelUpsertsAndSearches_LoseNothing_AndNeverSeeAHalfReplacedDocument()
    {
        const int documents = 40;
        const int chunksPerDocument = 5;
        IndexedChunk[] Document(int d, int version) => [.. Enumerable.Range(0, chunksPerDocument).Select(p =>
            Chunk($"doc{d}", p, $"shared v{version} doc{d}", new { version }, [(float)Random.Shared.NextDouble(), 1]))];

        await UpsertAsync([.. Enumerable.Range(0, documents).SelectMany(d => Document(d, 0))]);
        var torn = 0;
        var writers = Enumerable.Range(0, documents).Select(d => Task.Run(async () =>
        {
            for (var version = 1; version <= 3; version++)
            {
                await UpsertAsync(Document(d, version));
            }
        }));
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                var hits = await SearchAsync("shared", [0.5f, 1], SearchMode.Hybrid, topK: 1000);
                // Each upsert replaces a document in one transaction: a reader sees all of its chunks at one version.
                if (hits.GroupBy(h => h.Chunk.DocumentId).Any(g => g.Count() != chunksPerDocument || g.Select(h => h.Chunk.Metadata["version"]!.GetValue<int>()).Distinct().Count() != 1))
                {
                    Interlocked.Increment(ref torn);
                }
            }
        }));

        await Task.WhenAll([.. writers, .. readers]);

        Assert.Equal(0, torn);
        Assert.Equal(new CollectionStats(documents * chunksPerDocument, documents * chunksPerDocument), await Index.GetStatsAsync(Kb, Cancellation));
        var final = await SearchAsync("v3", null, SearchMode.Fulltext, topK: 1000);
        Assert.Equal(documents * chunksPerDocument, final.Count);
    }

    [Fact]
    public void MatchQuery_QuotesEveryWord_AndDropsSyntax()
    {
        Assert.Equal("\"near\" OR \"alpha\" OR \"beta\"", SqliteSearchIndex.ToMatchQuery("NEAR(alpha -beta*"));
        Assert.Equal("\"café\" OR \"2024\"", SqliteSearchIndex.ToMatchQuery("Café: \"2024\""));
        Assert.Null(SqliteSearchIndex.ToMatchQuery(" *-\"() "));
    }

    private protected override Task<ISearchIndex> CreateIndexAsync() => Task.FromResult<ISearchIndex>(Open());

    private protected override Task DisposeIndexAsync()
    {
        foreach (var index in _opened)
        {
            index.Dispose();
        }

        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("AzureStorage", true)]
    [InlineData("Sqlite", false)]
    public void Opening_BesideAzureStorage_WarnsThatTheIndexIsThisInstancesOnly(string storageProvider, bool warns)
    {
        var logger = new RecordingLogger();
        using var index = new SqliteSearchIndex(Options.Create(new StorageOptions { DataDirectory = _dataDirectory, Provider = storageProvider }), logger);

        Assert.Equal(warns, logger.Warnings.Any(w => w.Contains("lost when the instance is recycled", StringComparison.Ordinal)));
    }

    private sealed class RecordingLogger : ILogger<SqliteSearchIndex>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }

    private SqliteSearchIndex Open()
    {
        var index = new SqliteSearchIndex(Options.Create(new StorageOptions { DataDirectory = _dataDirectory }), NullLogger<SqliteSearchIndex>.Instance);
        _opened.Add(index);
        return index;
    }
}
