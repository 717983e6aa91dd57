using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Search;

namespace Serverless.Functions.Tests.Platform.Search;

/// <summary>
/// What every <see cref="ISearchIndex"/> adapter must do, through the port only; a subclass supplies the adapter.
/// Each test uses a workspace of its own, so a subclass may hand every test the same index.
/// </summary>
public abstract class SearchIndexConformance : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private ISearchIndex? _index;

    private protected SearchCollection Kb { get; } = new("ws-" + Guid.NewGuid().ToString("N")[..12], "ds-a");

    private protected SearchCollection Other => Kb with { DatasetId = "ds-b" };

    private protected ISearchIndex Index => _index ?? throw new InvalidOperationException("Created in InitializeAsync.");

    private protected CancellationToken Cancellation => _timeout.Token;

    public async Task InitializeAsync() => _index = await CreateIndexAsync();

    public async Task DisposeAsync()
    {
        await DisposeIndexAsync();
        _timeout.Dispose();
    }

    private protected abstract Task<ISearchIndex> CreateIndexAsync();

    private protected virtual Task DisposeIndexAsync() => Task.CompletedTask;

    private protected static IndexedChunk Chunk(string document, int position, string content, object? metadata = null, float[]? vector = null, string? title = null) =>
        new($"{document}#{position}", document, position, title ?? document, content,
            metadata is null ? [] : JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(metadata))!.AsObject(), vector);

    private protected Task UpsertAsync(params IndexedChunk[] chunks) => Index.UpsertDocumentChunksAsync(Kb, chunks, Cancellation);

    private protected Task<IReadOnlyList<SearchHit>> SearchAsync(string? text, float[]? vector, SearchMode mode, int topK = 10, string? filter = null) =>
        SearchInAsync([Kb], text, vector, mode, topK, filter);

    private protected Task<IReadOnlyList<SearchHit>> SearchInAsync(IReadOnlyList<SearchCollection> collections, string? text, float[]? vector, SearchMode mode, int topK = 10, string? filter = null)
    {
        SearchFilter? parsed = null;
        if (filter is not null)
        {
            var result = SearchFilters.Parse(JsonNode.Parse(filter));
            Assert.True(result.IsValid, string.Join("; ", result.Errors.Select(e => e.Message)));
            parsed = result.Filter;
        }

        return Index.SearchAsync(collections, new SearchQuery(text, vector, mode, topK, parsed), Cancellation);
    }

    private static string[] Ids(IReadOnlyList<SearchHit> hits) => [.. hits.Select(h => h.Chunk.ChunkId)];

    [Fact]
    public async Task Upsert_ThenStats_CountsChunksAndVectors()
    {
        await UpsertAsync(Chunk("d1", 0, "alpha", vector: [1, 0]), Chunk("d1", 1, "beta"), Chunk("d2", 0, "gamma", vector: [0, 1]));

        var stats = await Index.GetStatsAsync(Kb, Cancellation);

        Assert.Equal(new CollectionStats(3, 2), stats);
        Assert.Equal(new CollectionStats(0, 0), await Index.GetStatsAsync(Other, Cancellation));
    }

    [Fact]
    public async Task Upsert_SameDocumentWithFewerChunks_ReplacesTheOldOnes()
    {
        await UpsertAsync(Chunk("d1", 0, "old zebra text"), Chunk("d1", 1, "old zebra more"), Chunk("d1", 2, "old zebra end"), Chunk("d2", 0, "other zebra"));

        await UpsertAsync(Chunk("d1", 0, "new zebra text"));

        Assert.Equal(new CollectionStats(2, 0), await Index.GetStatsAsync(Kb, Cancellation));
        var hits = await SearchAsync("zebra", null, SearchMode.Fulltext);
        Assert.Equal(["d1#0", "d2#0"], Ids(hits).Order());
        Assert.Equal("new zebra text", hits.Single(h => h.Chunk.ChunkId == "d1#0").Chunk.Content);
    }

    [Fact]
    public async Task DeleteDocument_RemovesItsChunksOnly_AndSaysWhetherAnyWereThere()
    {
        await UpsertAsync(Chunk("d1", 0, "kiwi one", vector: [1, 0]), Chunk("d1", 1, "kiwi two", vector: [1, 0]), Chunk("d2", 0, "kiwi three", vector: [1, 0]));

        Assert.True(await Index.DeleteDocumentAsync(Kb, "d1", Cancellation));
        Assert.False(await Index.DeleteDocumentAsync(Kb, "d1", Cancellation));

        Assert.Equal(new CollectionStats(1, 1), await Index.GetStatsAsync(Kb, Cancellation));
        Assert.Equal(["d2#0"], Ids(await SearchAsync("kiwi", null, SearchMode.Fulltext)));
        Assert.Equal(["d2#0"], Ids(await SearchAsync(null, [1, 0], SearchMode.Vector)));
    }

    [Fact]
    public async Task DeleteCollection_RemovesEverything_OtherCollectionsStay()
    {
        await UpsertAsync(Chunk("d1", 0, "mango", vector: [1, 0]));
        await Index.UpsertDocumentChunksAsync(Other, [Chunk("d1", 0, "mango", vector: [1, 0])], Cancellation);

        await Index.DeleteCollectionAsync(Kb, Cancellation);

        Assert.Equal(new CollectionStats(0, 0), await Index.GetStatsAsync(Kb, Cancellation));
        Assert.Empty(await SearchAsync("mango", [1, 0], SearchMode.Hybrid));
        Assert.Single(await SearchInAsync([Other], "mango", [1, 0], SearchMode.Hybrid));
    }

    [Fact]
    public async Task Fulltext_RanksTheMatchingDocumentFirst_WithHigherIsBetterScores()
    {
        await UpsertAsync(
            Chunk("refunds", 0, "How to request a refund for a billing error. Refund requests take five days.", title: "Refund policy"),
            Chunk("shipping", 0, "Shipping takes two days. We ship worldwide."),
            Chunk("misc", 0, "Our office has a cat. The billing team likes the cat."));

        var hits = await SearchAsync("refund", null, SearchMode.Fulltext);

        Assert.Equal("refunds#0", hits[0].Chunk.ChunkId);
        Assert.Single(hits);
        Assert.True(hits[0].Score > 0);
        var both = await SearchAsync("billing refund", null, SearchMode.Fulltext);
        Assert.Equal(["refunds#0", "misc#0"], Ids(both));
        Assert.True(both[0].Score > both[1].Score);
        Assert.Equal(Kb, both[0].Collection);
        Assert.Equal("Refund policy", both[0].Chunk.Title);
    }

    [Fact]
    public async Task Vector_RanksByExactCosine()
    {
        await UpsertAsync(
            Chunk("east", 0, "e", vector: [1, 0, 0]),
            Chunk("north-east", 0, "ne", vector: [3, 3, 0]),
            Chunk("north", 0, "n", vector: [0, 5, 0]),
            Chunk("up", 0, "u", vector: [0, 0, 2]));

        var hits = await SearchAsync(null, [2, 1, 0], SearchMode.Vector, topK: 3);

        Assert.Equal(["north-east#0", "east#0", "north#0"], Ids(hits));
        Assert.Equal(3 / Math.Sqrt(10), hits[0].Score, 4);
        Assert.Equal(2 / Math.Sqrt(5), hits[1].Score, 4);
        Assert.Equal(1 / Math.Sqrt(5), hits[2].Score, 4);
    }

    [Fact]
    public async Task Hybrid_FusesBothRankings_AChunkFoundByBothComesFirst()
    {
        await UpsertAsync(
            Chunk("text-only", 0, "invoice invoice invoice overdue"),
            Chunk("both", 0, "invoice reminder", vector: [0.9f, 0.1f]),
            Chunk("vector-only", 0, "unrelated words", vector: [1, 0]));

        var hits = await SearchAsync("invoice", [1, 0], SearchMode.Hybrid, topK: 3);

        Assert.Equal("both#0", hits[0].Chunk.ChunkId);
        Assert.Equal(3, hits.Count);
        Assert.True(hits[0].Score > hits[1].Score && hits[1].Score >= hits[2].Score);
        Assert.Single(await SearchAsync("invoice", [1, 0], SearchMode.Hybrid, topK: 1));
    }

    [Theory]
    [InlineData("""{"topic":"billing"}""", new[] { "a#0", "c#0" })]
    [InlineData("""{"topic":{"in":["shipping","legal"]}}""", new[] { "b#0", "d#0" })]
    [InlineData("""{"year":{"gte":2021,"lt":2023}}""", new[] { "b#0", "c#0" })]
    [InlineData("""{"year":{"gt":2021}}""", new[] { "c#0", "d#0" })]
    [InlineData("""{"year":{"lte":2020}}""", new[] { "a#0" })]
    [InlineData("""{"draft":true}""", new[] { "b#0" })]
    [InlineData("""{"topic":"billing","year":2022}""", new[] { "c#0" })]
    [InlineData("""{"$and":[{"topic":"billing"},{"year":{"lt":2021}}]}""", new[] { "a#0" })]
    [InlineData("""{"$or":[{"topic":"legal"},{"draft":true}]}""", new[] { "b#0", "d#0" })]
    [InlineData("""{"$or":[{"$and":[{"topic":"billing"},{"year":2022}]},{"year":{"gte":2023}}]}""", new[] { "c#0", "d#0" })]
    [InlineData("""{"missing":"x"}""", new string[0])]
    public async Task Filters_ApplyInsideTheQuery_InEveryMode(string filter, string[] expected)
    {
        // Many non-matching chunks rank above the matching ones, so a filter applied after a TopK cut would lose them.
        var noise = Enumerable.Range(0, 30).Select(i => Chunk($"noise{i}", 0, "report report report", new { topic = "noise", year = "2022" }, [1, 0]));
        await UpsertAsync([.. noise,
            Chunk("a", 0, "report", new { topic = "billing", year = 2020 }, [0.1f, 1]),
            Chunk("b", 0, "report", new { topic = "shipping", year = 2021, draft = true }, [0.1f, 1]),
            Chunk("c", 0, "report", new { topic = "billing", year = 2022, draft = false }, [0.1f, 1]),
            Chunk("d", 0, "report", new { topic = "legal", year = 2024.5 }, [0.1f, 1])]);

        foreach (var mode in new[] { SearchMode.Fulltext, SearchMode.Vector, SearchMode.Hybrid })
        {
            var hits = await SearchAsync("report", [1, 0], mode, topK: 2, filter: filter);
            Assert.True(expected.SequenceEqual(Ids(hits).Order()), $"{mode}: got {string.Join(",", Ids(hits))}");
        }
    }

    [Fact]
    public async Task Search_AcrossCollectionsOfOneWorkspace_ReturnsHitsOfEach()
    {
        await UpsertAsync(Chunk("d1", 0, "papaya salad", vector: [1, 0]));
        await Index.UpsertDocumentChunksAsync(Other, [Chunk("d1", 0, "papaya juice", vector: [0.8f, 0.2f])], Cancellation);

        foreach (var mode in new[] { SearchMode.Fulltext, SearchMode.Vector, SearchMode.Hybrid })
        {
            var hits = await SearchInAsync([Kb, Other], "papaya", [1, 0], mode);

            Assert.Equal([Kb, Other], hits.Select(h => h.Collection).OrderBy(c => c.DatasetId));
        }
    }

    [Fact]
    public async Task Search_NeverReturnsAnotherWorkspacesCollection()
    {
        var foreign = new SearchCollection("ws-other-" + Guid.NewGuid().ToString("N")[..8], Kb.DatasetId);
        await Index.UpsertDocumentChunksAsync(foreign, [Chunk("secret", 0, "confidential merger plan", vector: [1, 0])], Cancellation);
        await UpsertAsync(Chunk("mine", 0, "public notes", vector: [0, 1]));

        foreach (var mode in new[] { SearchMode.Fulltext, SearchMode.Vector, SearchMode.Hybrid })
        {
            var hits = await SearchAsync("confidential merger", [1, 0], mode);

            Assert.DoesNotContain(hits, h => h.Collection != Kb || h.Chunk.DocumentId == "secret");
        }

        Assert.Equal(new CollectionStats(1, 1), await Index.GetStatsAsync(Kb, Cancellation));
        await Assert.ThrowsAsync<ArgumentException>(() => SearchInAsync([Kb, foreign], "merger", null, SearchMode.Fulltext));
    }

    [Theory]
    [InlineData("\"unbalanced")]
    [InlineData("NEAR(alpha beta")]
    [InlineData("alpha*")]
    [InlineData("-alpha")]
    [InlineData("alpha AND OR NOT")]
    [InlineData("title:alpha")]
    [InlineData("^alpha + {beta} (gamma)")]
    [InlineData("'; DROP TABLE chunks; --")]
    [InlineData("\"\"\"")]
    [InlineData("*")]
    public async Task Fulltext_HostileText_IsPlainWords_NeverAnError(string text)
    {
        await UpsertAsync(Chunk("d1", 0, "alpha beta gamma"), Chunk("d2", 0, "delta"));

        var hits = await SearchAsync(text, null, SearchMode.Fulltext);

        Assert.All(hits, h => Assert.Equal("d1#0", h.Chunk.ChunkId));
        Assert.Equal(new CollectionStats(2, 0), await Index.GetStatsAsync(Kb, Cancellation));
    }

    [Fact]
    public async Task Vector_OfAnotherLength_IsAClearArgumentError()
    {
        await UpsertAsync(Chunk("d1", 0, "x", vector: [1, 0, 0]));

        var query = await Assert.ThrowsAsync<ArgumentException>(() => SearchAsync(null, [1, 0], SearchMode.Vector));
        var upsert = await Assert.ThrowsAsync<ArgumentException>(() => UpsertAsync(Chunk("d2", 0, "y", vector: [1, 0])));

        Assert.Contains("dimensions", query.Message, StringComparison.Ordinal);
        Assert.Contains("dimensions", upsert.Message, StringComparison.Ordinal);
        Assert.Equal(new CollectionStats(1, 1), await Index.GetStatsAsync(Kb, Cancellation));
    }

    [Fact]
    public async Task Search_WithoutWhatTheModeNeeds_IsAnArgumentError()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => SearchAsync(null, [1, 0], SearchMode.Fulltext));
        await Assert.ThrowsAsync<ArgumentException>(() => SearchAsync("x", null, SearchMode.Vector));
        await Assert.ThrowsAsync<ArgumentException>(() => SearchAsync("x", null, SearchMode.Hybrid));
        await Assert.ThrowsAsync<ArgumentException>(() => SearchAsync("x", null, SearchMode.Fulltext, topK: 0));
    }

    [Fact]
    public async Task Hits_CarryTheChunkAsStored()
    {
        await UpsertAsync(Chunk("doc", 3, "the content", new { lang = "en", pages = 12, ok = true }, [1, 0], "The title"));

        var hit = Assert.Single(await SearchAsync("content", [1, 0], SearchMode.Hybrid));

        Assert.Equal(("doc#3", "doc", 3, "The title", "the content"), (hit.Chunk.ChunkId, hit.Chunk.DocumentId, hit.Chunk.Position, hit.Chunk.Title, hit.Chunk.Content));
        Assert.Equal("""{"lang":"en","pages":12,"ok":true}""", hit.Chunk.Metadata.ToJsonString());
    }
}
