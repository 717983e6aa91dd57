using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Core.Pipeline;
using Azure.Search.Documents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform.Search;

/// <summary>
/// The Azure AI Search adapter against a fake service on 127.0.0.1 that answers in the REST API's shapes: the JSON
/// the SDK sends (index definition, batches, filters, vector queries) is asserted, and the answers map back.
/// </summary>
public sealed class AzureAiSearchIndexTests : IAsyncLifetime
{
    private const string IndexName = "test-chunks";
    private const string ApiKey = "fake-admin-key";
    private static readonly SearchCollection Kb = new("o'brien-ws", "ds-a");

    private readonly FakeSearchService _service = new();
    private AzureAiSearchIndex _index = null!;

    public async Task InitializeAsync()
    {
        var address = await _service.StartAsync();
        var settings = new AzureAiSearchOptions { Endpoint = "https://fake-search.search.windows.net", IndexName = IndexName, ApiKey = ApiKey, Dimensions = 4 };
        // The SDK insists on https endpoints; the transport sends every request to the loopback fake instead.
        var client = new HttpClient(new LoopbackRedirect(new Uri(address)));
        var options = new SearchClientOptions { Transport = new HttpClientTransport(client) };
        options.Retry.MaxRetries = 0;
        _index = new AzureAiSearchIndex(settings, options, NullLogger<AzureAiSearchIndex>.Instance);
    }

    public Task DisposeAsync() => _service.DisposeAsync().AsTask();

    [Fact]
    public async Task Upsert_CreatesTheIndexOnce_UploadsTheChunks_AndDeletesTheDocumentsSurplusChunks()
    {
        _service.Respond = _ => Results("""{"id":"stale-key"}""", $$"""{"id":"{{AzureAiSearchIndex.KeyOf(Kb, "d1#0")}}"}""");
        var metadata = JsonNode.Parse("""{"topic":"billing","year":2020,"ok":true}""")!.AsObject();

        await _index.UpsertDocumentChunksAsync(Kb, [
            new IndexedChunk("d1#0", "d1", 0, "Title", "first", metadata, [1, 0, 0, 0]),
            new IndexedChunk("d1#1", "d1", 1, "Title", "second", metadata, null)], CancellationToken.None);
        await _index.UpsertDocumentChunksAsync(Kb, [new IndexedChunk("d2#0", "d2", 0, "T", "x", [], null)], CancellationToken.None);

        Assert.All(_service.Requests, r => Assert.Equal(ApiKey, r.ApiKey));
        Assert.Single(_service.Requests, r => r.Method == "GET" && r.Path == $"/indexes('{IndexName}')");
        var created = Assert.Single(_service.Requests, r => r.Method == "POST" && r.Path == "/indexes").Json;
        var fields = created["fields"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
        Assert.Equal(4, fields["vector"]["dimensions"]!.GetValue<int>());
        Assert.Equal(AzureAiSearchIndex.VectorProfile, fields["vector"]["vectorSearchProfile"]!.GetValue<string>());
        Assert.True(fields["id"]["key"]!.GetValue<bool>());
        Assert.True(fields["metadataPairs"]["filterable"]!.GetValue<bool>());
        Assert.Equal("Collection(Edm.ComplexType)", fields["metadataNumbers"]["type"]!.GetValue<string>());
        Assert.Equal(["key:Edm.String", "value:Edm.Double"], fields["metadataNumbers"]["fields"]!.AsArray()
            .Select(f => f!["name"]!.GetValue<string>() + ":" + f["type"]!.GetValue<string>()));
        Assert.True(fields["metadataStrings"]["fields"]!.AsArray().All(f => f!["filterable"]!.GetValue<bool>()));
        Assert.True(fields["content"]["searchable"]!.GetValue<bool>());
        Assert.Equal("hnsw", created["vectorSearch"]!["algorithms"]![0]!["kind"]!.GetValue<string>());
        Assert.Equal(AzureAiSearchIndex.SemanticConfigurationName, created["semantic"]!["configurations"]![0]!["name"]!.GetValue<string>());

        var lookup = _service.Searches[0];
        Assert.Equal("workspaceId eq 'o''brien-ws' and (datasetId eq 'ds-a') and (documentId eq 'd1')", lookup["filter"]!.GetValue<string>());
        Assert.Equal("id", lookup["select"]!.GetValue<string>());

        var batches = _service.Requests.Where(r => r.Path.EndsWith("/docs/search.index", StringComparison.Ordinal)).Select(r => r.Json["value"]!.AsArray()).ToList();
        var upload = batches[0];
        Assert.Equal(["upload", "upload"], upload.Select(a => a!["@search.action"]!.GetValue<string>()));
        var first = upload[0]!;
        Assert.Equal(AzureAiSearchIndex.KeyOf(Kb, "d1#0"), first["id"]!.GetValue<string>());
        Assert.Equal(("o'brien-ws", "ds-a", "d1", "d1#0", 0), (first["workspaceId"]!.GetValue<string>(), first["datasetId"]!.GetValue<string>(),
            first["documentId"]!.GetValue<string>(), first["chunkId"]!.GetValue<string>(), first["position"]!.GetValue<int>()));
        Assert.Equal(["ok=true", "topic=\"billing\"", "year=2020"], first["metadataPairs"]!.AsArray().Select(p => p!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(metadata.ToJsonString(), first["metadata"]!.GetValue<string>());
        Assert.Equal("""[{"key":"year","value":2020}]""", first["metadataNumbers"]!.ToJsonString());
        Assert.Equal("""[{"key":"topic","value":"billing"}]""", first["metadataStrings"]!.ToJsonString());
        Assert.Equal(4, first["vector"]!.AsArray().Count);
        Assert.True(first["hasVector"]!.GetValue<bool>());
        Assert.False(upload[1]!["hasVector"]!.GetValue<bool>());

        var delete = Assert.Single(batches[1]);
        Assert.Equal(("delete", "stale-key"), (delete!["@search.action"]!.GetValue<string>(), delete["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Search_Hybrid_SendsTheScopedFilterTheVectorQueryAndTop_AndMapsTheHitsBack()
    {
        _service.Respond = _ => Results("""
            {"@search.score":0.0164,"id":"k1","workspaceId":"o'brien-ws","datasetId":"ds-b","documentId":"doc","chunkId":"doc#2",
             "position":2,"title":"Refunds","content":"How refunds work","metadata":"{\"topic\":\"billing\",\"year\":2021}"}
            """);
        var filter = SearchFilters.Parse(JsonNode.Parse("""{"topic":{"in":["billing","it's"]},"draft":false}""")).Filter;

        var hits = await _index.SearchAsync([Kb, Kb with { DatasetId = "ds-b" }],
            new SearchQuery("Refund -policy NEAR( \"x", [0.5f, 0.5f, 0, 0], SearchMode.Hybrid, 5, filter), CancellationToken.None);

        var body = Assert.Single(_service.Searches);
        Assert.Equal("refund policy near x", body["search"]!.GetValue<string>());
        Assert.Equal(
            "workspaceId eq 'o''brien-ws' and (datasetId eq 'ds-a' or datasetId eq 'ds-b') and " +
            "(metadataPairs/any(p: p eq 'topic=\"billing\"' or p eq 'topic=\"it''s\"') and metadataPairs/any(p: p eq 'draft=false'))",
            body["filter"]!.GetValue<string>());
        Assert.Equal(5, body["top"]!.GetValue<int>());
        var vectorQuery = Assert.Single(body["vectorQueries"]!.AsArray())!;
        Assert.Equal(("vector", 60, "vector", 4), (vectorQuery["kind"]!.GetValue<string>(), vectorQuery["k"]!.GetValue<int>(),
            vectorQuery["fields"]!.GetValue<string>(), vectorQuery["vector"]!.AsArray().Count));
        Assert.Equal("preFilter", body["vectorFilterMode"]!.GetValue<string>());
        Assert.DoesNotContain("vector", body["select"]!.GetValue<string>().Split(','));

        var hit = Assert.Single(hits);
        Assert.Equal(Kb with { DatasetId = "ds-b" }, hit.Collection);
        Assert.Equal(("doc#2", "doc", 2, "Refunds", "How refunds work"), (hit.Chunk.ChunkId, hit.Chunk.DocumentId, hit.Chunk.Position, hit.Chunk.Title, hit.Chunk.Content));
        Assert.Equal("""{"topic":"billing","year":2021}""", hit.Chunk.Metadata.ToJsonString());
        Assert.Equal(0.0164 * 61 / 2, hit.Score, 6);
    }

    [Fact]
    public async Task Search_VectorAndFulltext_SendOnlyTheirPart_AndScoresFollowThePort()
    {
        _service.Respond = _ => Results("""{"@search.score":0.8,"id":"k","workspaceId":"o'brien-ws","datasetId":"ds-a","documentId":"d","chunkId":"c","position":0,"title":"","content":"","metadata":"{}"}""");

        var vector = Assert.Single(await _index.SearchAsync([Kb], new SearchQuery(null, [1, 0, 0, 0], SearchMode.Vector, 3, null), CancellationToken.None));
        var text = Assert.Single(await _index.SearchAsync([Kb], new SearchQuery("cats", null, SearchMode.Fulltext, 3, null), CancellationToken.None));

        // Azure scores cosine similarity s as 1 / (2 - s): 0.8 is s = 0.75.
        Assert.Equal(0.75, vector.Score, 6);
        Assert.Equal(0.8 / 1.8, text.Score, 6);
        Assert.Null(_service.Searches[0]["search"]);
        Assert.Equal(3, _service.Searches[0]["vectorQueries"]![0]!["k"]!.GetValue<int>());
        Assert.Equal("cats", _service.Searches[1]["search"]!.GetValue<string>());
        Assert.Null(_service.Searches[1]["vectorQueries"]);
    }

    [Fact]
    public async Task Stats_CountTheCollectionAndItsVectors()
    {
        _service.Respond = body => $$"""{"@odata.count":{{(body["filter"]!.GetValue<string>().Contains("hasVector", StringComparison.Ordinal) ? 3 : 7)}},"value":[]}""";

        var stats = await _index.GetStatsAsync(Kb, CancellationToken.None);

        Assert.Equal(new CollectionStats(7, 3), stats);
        Assert.All(_service.Searches, s => Assert.Equal((true, 0), (s["count"]!.GetValue<bool>(), s["top"]!.GetValue<int>())));
    }

    [Fact]
    public async Task DeleteDocument_DeletesEveryKeyFound_AndSaysWhetherThereWereAny()
    {
        _service.Respond = _ => Results("""{"id":"a"}""", """{"id":"b"}""");

        Assert.True(await _index.DeleteDocumentAsync(Kb, "doc'1", CancellationToken.None));

        Assert.Equal("workspaceId eq 'o''brien-ws' and (datasetId eq 'ds-a') and documentId eq 'doc''1'", _service.Searches[0]["filter"]!.GetValue<string>());
        var batch = _service.Requests.Single(r => r.Path.EndsWith("/docs/search.index", StringComparison.Ordinal)).Json["value"]!.AsArray();
        Assert.Equal(["a", "b"], batch.Select(a => a!["id"]!.GetValue<string>()));
        _service.Respond = _ => Results();
        Assert.False(await _index.DeleteDocumentAsync(Kb, "gone", CancellationToken.None));
    }

    [Fact]
    public async Task UnsupportedOrMismatchedInput_IsAnArgumentError_BeforeAnyRequest()
    {
        // The parser refuses this one already; a filter built in code still meets the adapter's own check.
        var range = new Serverless.Functions.Platform.Search.SearchFilter.Range("draft", JsonValue.Create(false), null, null, null);

        var rangeError = await Assert.ThrowsAsync<ArgumentException>(() => _index.SearchAsync([Kb], new SearchQuery("x", null, SearchMode.Fulltext, 5, range), CancellationToken.None));
        var queryLength = await Assert.ThrowsAsync<ArgumentException>(() => _index.SearchAsync([Kb], new SearchQuery(null, [1, 0], SearchMode.Vector, 5, null), CancellationToken.None));
        var chunkLength = await Assert.ThrowsAsync<ArgumentException>(() => _index.UpsertDocumentChunksAsync(Kb, [new IndexedChunk("c", "d", 0, "", "", [], [1, 0])], CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => _index.SearchAsync([Kb, new SearchCollection("other", "ds-a")], new SearchQuery("x", null, SearchMode.Fulltext, 5, null), CancellationToken.None));

        Assert.Contains("all numbers or all strings", rangeError.Message, StringComparison.Ordinal);
        Assert.Contains("dimensions", queryLength.Message, StringComparison.Ordinal);
        Assert.Contains("dimensions", chunkLength.Message, StringComparison.Ordinal);
        Assert.Empty(_service.Requests);
    }

    [Theory]
    [InlineData("""{"year":{"gte":2020,"lt":2025}}""", "metadataNumbers/any(m: m/key eq 'year' and m/value ge 2020 and m/value lt 2025)")]
    [InlineData("""{"name":{"gt":"o'b"}}""", "metadataStrings/any(m: m/key eq 'name' and m/value gt 'o''b')")]
    [InlineData("""{"$or":[{"score":{"lte":0.5}},{"topic":"x"}]}""", "(metadataNumbers/any(m: m/key eq 'score' and m/value le 0.5) or metadataPairs/any(p: p eq 'topic=\"x\"'))")]
    public void RangeFilters_CompareOneEntrysKeyAndTypedValue(string filter, string odata)
    {
        Assert.Equal(odata, AzureAiSearchIndex.ODataFilter(SearchFilters.Parse(JsonNode.Parse(filter)).Filter!));
    }

    [Fact]
    public void RangeFilters_OfMixedOrBooleanBounds_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => AzureAiSearchIndex.ODataFilter(new Serverless.Functions.Platform.Search.SearchFilter.Range("year", JsonValue.Create(2020), null, JsonValue.Create("2025"), null)));
        Assert.Throws<ArgumentException>(() => AzureAiSearchIndex.ODataFilter(new Serverless.Functions.Platform.Search.SearchFilter.Range("draft", JsonValue.Create(true), null, null, null)));
    }

    private static string Results(params string[] documents) =>
        "{\"value\":[" + string.Join(",", documents.Select(d => d.StartsWith("{\"@search.score\"", StringComparison.Ordinal) ? d : "{\"@search.score\":1," + d[1..])) + "]}";

    /// <summary>Sends each request to the loopback fake, keeping path and query.</summary>
    private sealed class LoopbackRedirect(Uri target) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.RequestUri = new UriBuilder(request.RequestUri!) { Scheme = target.Scheme, Host = target.Host, Port = target.Port }.Uri;
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Answers like Azure AI Search's REST API: index get/create, docs/search.index, docs/search.post.search.</summary>
    private sealed class FakeSearchService : IAsyncDisposable
    {
        private WebApplication? _app;
        private JsonNode? _index;

        public ConcurrentQueue<(string Method, string Path, string? ApiKey, JsonObject Json)> RequestLog { get; } = new();

        public List<(string Method, string Path, string? ApiKey, JsonObject Json)> Requests => [.. RequestLog];

        public List<JsonObject> Searches => [.. RequestLog.Where(r => r.Path.EndsWith("/docs/search.post.search", StringComparison.Ordinal)).Select(r => r.Json)];

        public Func<JsonObject, string> Respond { get; set; } = _ => "{\"value\":[]}";

        public async Task<string> StartAsync()
        {
            var (app, address) = await LoopbackServer.StartAsync(app => app.Run(HandleAsync));
            _app = app;
            return address;
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
        }

        private async Task HandleAsync(HttpContext context)
        {
            var path = Uri.UnescapeDataString(context.Request.Path.Value ?? "");
            var text = await new StreamReader(context.Request.Body, Encoding.UTF8).ReadToEndAsync();
            var json = text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!.AsObject();
            RequestLog.Enqueue((context.Request.Method, path, context.Request.Headers["api-key"].FirstOrDefault(), json));
            context.Response.ContentType = "application/json; odata.metadata=none";
            switch (context.Request.Method, path)
            {
                case ("GET", _) when path.StartsWith("/indexes(", StringComparison.Ordinal) && _index is null:
                    context.Response.StatusCode = 404;
                    await context.Response.WriteAsync($$$"""{"error":{"code":"","message":"No index with the name '{{{IndexName}}}' was found in the service."}}""");
                    break;
                case ("GET", _) when path.StartsWith("/indexes(", StringComparison.Ordinal):
                    await context.Response.WriteAsync(_index!.ToJsonString());
                    break;
                case ("POST", "/indexes"):
                    _index = json;
                    context.Response.StatusCode = 201;
                    await context.Response.WriteAsync(json.ToJsonString());
                    break;
                case ("POST", _) when path.EndsWith("/docs/search.index", StringComparison.Ordinal):
                    var results = json["value"]!.AsArray().Select(a => new JsonObject { ["key"] = a!["id"]!.GetValue<string>(), ["status"] = true, ["errorMessage"] = null, ["statusCode"] = 200 });
                    await context.Response.WriteAsync(new JsonObject { ["value"] = new JsonArray([.. results]) }.ToJsonString());
                    break;
                case ("POST", _) when path.EndsWith("/docs/search.post.search", StringComparison.Ordinal):
                    await context.Response.WriteAsync(Respond(json));
                    break;
                default:
                    context.Response.StatusCode = 400;
                    await context.Response.WriteAsync("""{"error":{"code":"","message":"unexpected request"}}""");
                    break;
            }
        }
    }
}
