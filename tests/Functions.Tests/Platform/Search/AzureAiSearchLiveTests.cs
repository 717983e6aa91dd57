using System.Text.Json.Nodes;
using Azure;
using Azure.Identity;
using Azure.Search.Documents;
using Azure.Search.Documents.Indexes;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Functions.Platform.Search;
using Xunit.Abstractions;

namespace Serverless.Functions.Tests.Platform.Search;

/// <summary>
/// Against a real Azure AI Search service, only when <c>AzureSearch__Endpoint</c> is set (and <c>AzureSearch__ApiKey</c>,
/// or else an identity <c>DefaultAzureCredential</c> finds): creates an index of its own, indexes, queries, deletes it.
/// </summary>
public sealed class AzureAiSearchLiveTests(ITestOutputHelper output)
{
    [Fact]
    public async Task LiveService_IndexQueryAndDelete_WhenAnEndpointIsConfigured()
    {
        var endpoint = Environment.GetEnvironmentVariable("AzureSearch__Endpoint");
        if (string.IsNullOrEmpty(endpoint))
        {
            output.WriteLine("AzureSearch__Endpoint is not set: the live Azure AI Search test did not run.");
            return;
        }

        var apiKey = Environment.GetEnvironmentVariable("AzureSearch__ApiKey");
        var settings = new AzureAiSearchOptions { Endpoint = endpoint, ApiKey = apiKey, IndexName = "test-chunks-" + Guid.NewGuid().ToString("N")[..12], Dimensions = 4 };
        var index = new AzureAiSearchIndex(settings, new SearchClientOptions(), NullLogger<AzureAiSearchIndex>.Instance);
        var admin = string.IsNullOrEmpty(apiKey)
            ? new SearchIndexClient(new Uri(endpoint), new DefaultAzureCredential())
            : new SearchIndexClient(new Uri(endpoint), new AzureKeyCredential(apiKey));
        var kb = new SearchCollection("live-ws", "live-ds");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = timeout.Token;
        try
        {
            await index.UpsertDocumentChunksAsync(kb, [
                new IndexedChunk("refunds#0", "refunds", 0, "Refund policy", "Refunds are paid within five days.", JsonNode.Parse("""{"topic":"billing","year":2019}""")!.AsObject(), [1, 0, 0, 0]),
                new IndexedChunk("shipping#0", "shipping", 0, "Shipping", "Parcels ship worldwide in two days.", JsonNode.Parse("""{"topic":"logistics","year":2023}""")!.AsObject(), [0, 1, 0, 0])], ct);

            // Indexing is near-real-time: poll until both chunks are searchable.
            var stats = new CollectionStats(0, 0);
            for (var attempt = 0; attempt < 60 && stats.Chunks < 2; attempt++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                stats = await index.GetStatsAsync(kb, ct);
            }

            Assert.Equal(new CollectionStats(2, 2), stats);
            Assert.Equal("refunds#0", (await index.SearchAsync([kb], new SearchQuery("refunds", null, SearchMode.Fulltext, 5, null), ct))[0].Chunk.ChunkId);
            var vector = await index.SearchAsync([kb], new SearchQuery(null, [0, 1, 0, 0], SearchMode.Vector, 1, null), ct);
            Assert.Equal("shipping#0", Assert.Single(vector).Chunk.ChunkId);
            Assert.Equal(1.0, vector[0].Score, 2);
            var filter = SearchFilters.Parse(JsonNode.Parse("""{"topic":"logistics"}""")).Filter;
            var hybrid = await index.SearchAsync([kb], new SearchQuery("refunds parcels", [1, 0, 0, 0], SearchMode.Hybrid, 5, filter), ct);
            Assert.Equal("shipping#0", Assert.Single(hybrid).Chunk.ChunkId);
            var recent = SearchFilters.Parse(JsonNode.Parse("""{"year":{"gte":2020,"lt":2030}}""")).Filter;
            var ranged = await index.SearchAsync([kb], new SearchQuery("refunds parcels", null, SearchMode.Fulltext, 5, recent), ct);
            Assert.Equal("shipping#0", Assert.Single(ranged).Chunk.ChunkId);
            Assert.Empty(await index.SearchAsync([kb with { WorkspaceId = "someone-else" }], new SearchQuery("refunds", null, SearchMode.Fulltext, 5, null), ct));

            Assert.True(await index.DeleteDocumentAsync(kb, "refunds", ct));
            await index.DeleteCollectionAsync(kb, ct);
            for (var attempt = 0; attempt < 60 && stats.Chunks > 0; attempt++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                stats = await index.GetStatsAsync(kb, ct);
            }

            Assert.Equal(new CollectionStats(0, 0), stats);
        }
        finally
        {
            await admin.DeleteIndexAsync(settings.IndexName, CancellationToken.None);
        }
    }
}
