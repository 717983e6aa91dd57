using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

/// <summary>One user with a tagged dataset (embedding model) and a plain one (fulltext only), shared by the search tests.</summary>
public sealed class SearchFixture : DatasetsFixture
{
    public TestUser User { get; private set; } = null!;

    public string Tagged { get; private set; } = null!;

    public string Plain { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        User = await Client.RegisterAsync();
        Tagged = await Client.CreateDatasetAsync(User, new { name = "tagged", embeddingModel = EmbeddingModel });
        await Client.UploadJsonAsync(User, Tagged,
            new { id = "b2019", content = "Billing invoices are sent monthly by email.", metadata = new { topic = "billing", year = 2019, public_ = true } },
            new { id = "b2021", content = "Billing disputes must be filed within thirty days.", metadata = new { topic = "billing", year = 2021 } },
            new { id = "s2022", content = "Support tickets are answered within one business day.", metadata = new { topic = "support", year = 2022 } },
            new { id = "h2024", content = "Holiday schedule: the office closes on public holidays.", metadata = new { topic = "hr", year = 2024 } },
            new { id = "l2025", content = "Legal notices about billing go to the legal team.", metadata = new { topic = "legal", year = 2025 } });
        Plain = await Client.CreateDatasetAsync(User, new { name = "plain" });
        await Client.UploadJsonAsync(User, Plain, new { id = "p1", content = "Parking permits for staff are issued by facilities." });
        await Client.WaitForIngestionAsync(User, Tagged, expected: 5);
        await Client.WaitForIngestionAsync(User, Plain);
    }
}

public sealed class SearchTests(SearchFixture fixture) : IClassFixture<SearchFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private Task<System.Text.Json.Nodes.JsonNode> SearchAsync(object body) => _client.SearchAsync(fixture.User, fixture.Tagged, body);

    [Theory]
    [InlineData("fulltext")]
    [InlineData("vector")]
    [InlineData("hybrid")]
    public async Task EveryMode_FindsTheMatchingDocumentFirst_WithScoresBestFirst(string mode)
    {
        var result = await SearchAsync(new { query = "support tickets answered", mode, topK = 3 });

        var chunks = result["chunks"]!.AsArray();
        Assert.Equal(mode, result["mode"]!.GetValue<string>());
        Assert.Equal("s2022", chunks[0]!["documentId"]!.GetValue<string>());
        Assert.Equal(1, chunks[0]!["citation"]!.GetValue<int>());
        Assert.Equal("support", chunks[0]!["metadata"]!["topic"]!.GetValue<string>());
        Assert.Equal(fixture.Tagged, chunks[0]!["datasetId"]!.GetValue<string>());
        Assert.Equal("s2022", chunks[0]!["title"]!.GetValue<string>());
        var scores = chunks.Select(c => c!["score"]!.GetValue<double>()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.True(chunks.Count <= 3);
    }

    [Fact]
    public async Task Filters_Equality_Range_In_And_Or()
    {
        async Task<List<string>> IdsAsync(object filter) =>
            [.. DatasetApi.DocumentIds(await SearchAsync(new { query = "billing", mode = "vector", topK = 10, filter })).Order()];

        Assert.Equal(["b2019", "b2021"], await IdsAsync(new { topic = "billing" }));
        Assert.Equal(["b2021", "h2024", "s2022"], await IdsAsync(new { year = new { gte = 2020, lt = 2025 } }));
        Assert.Equal(["h2024", "s2022"], await IdsAsync(new { topic = new { @in = new[] { "support", "hr" } } }));
        Assert.Equal(["b2021"], await IdsAsync(new Dictionary<string, object> { ["$and"] = new object[] { new { topic = "billing" }, new { year = new { gt = 2020 } } } }));
        Assert.Equal(["b2019", "l2025"], await IdsAsync(new Dictionary<string, object> { ["$or"] = new object[] { new { year = 2019 }, new { topic = "legal" } } }));
        // The filter applies in fulltext mode too.
        Assert.Equal(["l2025"], DatasetApi.DocumentIds(await SearchAsync(new { query = "billing", mode = "fulltext", filter = new { topic = "legal" } })));
    }

    [Theory]
    [InlineData("""{"query":"x","filter":{"year":{"between":[1,2]}}}""")]
    [InlineData("""{"query":"x","filter":{"$and":"nope"}}""")]
    [InlineData("""{"query":"x","filter":[1]}""")]
    [InlineData("""{"query":"","mode":"fulltext"}""")]
    [InlineData("""{"query":"x","mode":"semantic"}""")]
    [InlineData("""{"query":"x","topK":0}""")]
    [InlineData("""{"query":"x","topK":1000}""")]
    [InlineData("""{"query":"x","scoreThreshold":"high"}""")]
    public async Task InvalidSearch_Is422(string body)
    {
        var response = await _client.ApiPostAsync($"/api/v1/datasets/{fixture.Tagged}/search", body, fixture.User.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("VALIDATION_ERROR", response.ErrorCode);
    }

    [Theory]
    [InlineData("vector")]
    [InlineData("hybrid")]
    public async Task VectorModes_OnADatasetWithoutEmbeddingModel_Are422SayingWhy(string mode)
    {
        var response = await _client.ApiPostAsync($"/api/v1/datasets/{fixture.Plain}/search", new { query = "parking", mode }, fixture.User.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Contains("no embedding model", response.Body!["error"]!["message"]!.GetValue<string>() + response.Body!["error"]!["details"]![0]!["message"]!.GetValue<string>());
        Assert.Equal("mode", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task NoMode_IsHybridWithAModel_AndFulltextWithout()
    {
        Assert.Equal("hybrid", (await SearchAsync(new { query = "holiday" }))["mode"]!.GetValue<string>());
        var plain = await _client.SearchAsync(fixture.User, fixture.Plain, new { query = "parking permits" });
        Assert.Equal("fulltext", plain["mode"]!.GetValue<string>());
        Assert.Equal(["p1"], DatasetApi.DocumentIds(plain));
    }

    [Fact]
    public async Task CrossDatasetSearch_MergesBothDatasets_InFulltext_AndRefusesVectorOverAPlainOne()
    {
        var both = await _client.ApiPostAsync("/api/v1/datasets/search",
            new { datasetIds = new[] { fixture.Tagged, fixture.Plain }, query = "staff parking holidays office", mode = "fulltext", topK = 5 }, fixture.User.AccessToken);

        Assert.Equal(HttpStatusCode.OK, both.Status);
        var datasets = both.Data["chunks"]!.AsArray().Select(c => c!["datasetId"]!.GetValue<string>()).ToHashSet();
        Assert.Contains(fixture.Tagged, datasets);
        Assert.Contains(fixture.Plain, datasets);
        Assert.Equal(Enumerable.Range(1, both.Data["chunks"]!.AsArray().Count), both.Data["chunks"]!.AsArray().Select(c => c!["citation"]!.GetValue<int>()));

        var vector = await _client.ApiPostAsync("/api/v1/datasets/search",
            new { datasetIds = new[] { fixture.Tagged, fixture.Plain }, query = "parking", mode = "vector" }, fixture.User.AccessToken);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, vector.Status);
        var missing = await _client.ApiPostAsync("/api/v1/datasets/search", new { datasetIds = Array.Empty<string>(), query = "parking" }, fixture.User.AccessToken);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.Status);
    }

    [Fact]
    public async Task HybridScores_AreScaledToOne_SoAThresholdForTheOtherModesKeepsTheBestHit()
    {
        var all = (await SearchAsync(new { query = "support tickets answered", mode = "hybrid", topK = 5 }))["chunks"]!.AsArray();
        var kept = (await SearchAsync(new { query = "support tickets answered", mode = "hybrid", topK = 5, scoreThreshold = 0.5 }))["chunks"]!.AsArray();

        // First in both rankings: the full fused score.
        Assert.Equal(1.0, all[0]!["score"]!.GetValue<double>(), 9);
        Assert.All(all, c => Assert.InRange(c!["score"]!.GetValue<double>(), 0.0, 1.0));
        Assert.Equal("s2022", kept[0]!["documentId"]!.GetValue<string>());
        Assert.All(kept, c => Assert.True(c!["score"]!.GetValue<double>() >= 0.5));
    }

    [Fact]
    public async Task ScoreThreshold_DropsWeakerHits()
    {
        var all = (await SearchAsync(new { query = "billing invoices monthly", mode = "vector", topK = 10 }))["chunks"]!.AsArray();
        var best = all[0]!["score"]!.GetValue<double>();

        var strong = (await SearchAsync(new { query = "billing invoices monthly", mode = "vector", topK = 10, scoreThreshold = best - 1e-9 }))["chunks"]!.AsArray();

        Assert.True(all.Count > 1);
        Assert.Single(strong);
        Assert.Equal("b2019", strong[0]!["documentId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Search_WhenEmbeddingTheQueryFails_Is502_AndFulltextNeedsNoModel()
    {
        fixture.Model.EnqueueStatus(500);

        var vector = await _client.ApiPostAsync($"/api/v1/datasets/{fixture.Tagged}/search", new { query = "billing", mode = "vector" }, fixture.User.AccessToken);
        fixture.Model.EnqueueStatus(500);
        var text = await _client.ApiPostAsync($"/api/v1/datasets/{fixture.Tagged}/search", new { query = "billing", mode = "fulltext" }, fixture.User.AccessToken);
        var next = await _client.ApiPostAsync($"/api/v1/datasets/{fixture.Tagged}/search", new { query = "billing", mode = "vector" }, fixture.User.AccessToken);

        Assert.Equal(HttpStatusCode.BadGateway, vector.Status);
        Assert.Equal("AI_SERVICE_ERROR", vector.Body!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, text.Status);
        Assert.NotEmpty(text.Data["chunks"]!.AsArray());
        // The fulltext search called no model, so the failure queued before it met the next embedding call.
        Assert.Equal(HttpStatusCode.BadGateway, next.Status);
    }
}
