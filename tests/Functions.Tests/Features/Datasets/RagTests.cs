using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

public sealed class RagTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<(TestUser User, string Namespace)> IndexedAsync()
    {
        var user = await _client.RegisterAsync();
        var ns = "ns-" + Guid.NewGuid().ToString("N")[..8];
        var indexed = await _client.ApiPostAsync("/api/v1/rag/index", new
        {
            @namespace = ns,
            documents = new object[]
            {
                new { id = "doc_features", content = "The system includes workflow automation, a model gateway and knowledge bases.", metadata = new { title = "System Features", tags = new[] { "features" } } },
                new { id = "doc_pricing", content = "Pricing starts at ten dollars per seat and month.", metadata = new { title = "Pricing" } },
            },
        }, user.AccessToken);
        Assert.True(indexed.Status == HttpStatusCode.Accepted, indexed.Body?.ToJsonString());
        Assert.True(indexed.Data["indexed"]!.GetValue<bool>());
        Assert.Equal(2, indexed.Data["document_count"]!.GetValue<int>());
        Assert.Equal(ns, indexed.Data["namespace"]!.GetValue<string>());
        Assert.StartsWith("batch_", indexed.Data["index_id"]!.GetValue<string>());
        await _client.WaitForIngestionAsync(user, indexed.Data["dataset_id"]!.GetValue<string>(), expected: 2);
        return (user, ns);
    }

    [Fact]
    public async Task Index_CreatesTheNamespaceDataset_WithTheWorkspacesEmbeddingModel()
    {
        var (user, ns) = await IndexedAsync();

        var datasets = (await _client.ApiGetAsync("/api/v1/datasets", user.AccessToken)).Data.AsArray();
        var dataset = Assert.Single(datasets)!;
        Assert.Equal(ns, dataset["namespace"]!.GetValue<string>());
        Assert.Equal(DatasetsFixture.EmbeddingModel, dataset["embeddingModel"]!.GetValue<string>());
    }

    [Fact]
    public async Task Query_WithoutGeneration_ReturnsRelevantDocumentsInForgeTmShape()
    {
        var (user, ns) = await IndexedAsync();

        var response = await _client.ApiPostAsync("/api/v1/rag/query", new { query = "What does pricing start at?", @namespace = ns, top_k = 1, include_metadata = true }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var data = response.Data;
        Assert.Equal("What does pricing start at?", data["query"]!.GetValue<string>());
        var document = Assert.Single(data["relevant_documents"]!.AsArray())!;
        Assert.Equal("doc_pricing", document["id"]!.GetValue<string>());
        Assert.Contains("ten dollars", document["content"]!.GetValue<string>());
        Assert.True(document["score"]!.GetValue<double>() > 0);
        Assert.Equal("Pricing", document["metadata"]!["title"]!.GetValue<string>());
        Assert.Null(data["generated_response"]);
        Assert.Equal(0, data["usage"]!["total_tokens"]!.GetValue<int>());

        var bare = await _client.ApiPostAsync("/api/v1/rag/query", new { query = "pricing", @namespace = ns, include_metadata = false }, user.AccessToken);
        Assert.All(bare.Data["relevant_documents"]!.AsArray(), d => Assert.Null(d!["metadata"]));
    }

    [Fact]
    public async Task Query_WithGeneration_AsksTheModelToCiteTheNumberedContext_AndReturnsItsAnswerAndUsage()
    {
        var (user, ns) = await IndexedAsync();
        // Only the chat call gets the canned answer; the query's embedding call before it is served as usual.
        fixture.Model.Always = async (context, body) =>
        {
            if (context.Request.Path != "/v1/chat/completions")
            {
                return false;
            }

            await context.Response.WriteAsJsonAsync(new
            {
                id = "chatcmpl-rag", @object = "chat.completion", created = 1_700_000_000, model = "gpt-test",
                choices = new[] { new { index = 0, message = new { role = "assistant", content = "Pricing starts at ten dollars per seat [1]." }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 10, completion_tokens = 5, total_tokens = 15 },
            });
            return true;
        };
        ApiResponse response;
        try
        {
            response = await _client.ApiPostAsync("/api/v1/rag/query",
                new { query = "How much does it cost per seat?", @namespace = ns, top_k = 2, generate_response = true, model = DatasetsFixture.ChatModel }, user.AccessToken);
        }
        finally
        {
            fixture.Model.Always = null;
        }

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Pricing starts at ten dollars per seat [1].", response.Data["generated_response"]!.GetValue<string>());
        Assert.Equal(15, response.Data["usage"]!["total_tokens"]!.GetValue<int>());
        var documents = response.Data["relevant_documents"]!.AsArray();
        Assert.Equal("doc_pricing", documents[0]!["id"]!.GetValue<string>());
        Assert.Equal(1, documents[0]!["citation"]!.GetValue<int>());
        var sent = fixture.Model.Received.Last(r => r.Path == "/v1/chat/completions").Body!;
        var system = sent["messages"]![0]!["content"]!.GetValue<string>();
        Assert.Contains("[1] Pricing\n", system);
        Assert.Contains("Pricing starts at ten dollars", system);
        Assert.Contains("cite", system, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("do not know", system);
        Assert.Equal("How much does it cost per seat?", sent["messages"]![1]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Query_NothingRetrieved_SaysItDoesNotKnow_WithoutCallingAModel()
    {
        var (user, ns) = await IndexedAsync();
        var calls = fixture.Model.Received.Count(r => r.Path == "/v1/chat/completions");

        var response = await _client.ApiPostAsync("/api/v1/rag/query",
            new { query = "zebra migration", @namespace = ns, generate_response = true, model = DatasetsFixture.ChatModel, scoreThreshold = 0.99 }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Empty(response.Data["relevant_documents"]!.AsArray());
        Assert.Contains("don't know", response.Data["generated_response"]!.GetValue<string>());
        Assert.Equal(calls, fixture.Model.Received.Count(r => r.Path == "/v1/chat/completions"));
    }

    [Fact]
    public async Task Query_GenerationWithoutModel_UsesTheWorkspacesChatModel_And422SaysHowToAddOneWhenNoneIsUsable()
    {
        var (user, ns) = await IndexedAsync();
        var embedOnly = await _client.ApiPostAsync("/api/v1/user/api-keys",
            new { name = "embed only", scopes = new[] { "datasets:read", "models:use" }, allowedModels = new[] { DatasetsFixture.EmbeddingModel } }, user.AccessToken);

        var defaulted = await _client.ApiPostAsync("/api/v1/rag/query",
            new { query = "zebra migration", @namespace = ns, generate_response = true, scoreThreshold = 0.99 }, user.AccessToken);
        var none = await _client.ApiPostAsync("/api/v1/rag/query",
            new { query = "pricing", @namespace = ns, generate_response = true }, null, Users.ApiKey(embedOnly.Data["key"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.OK, defaulted.Status);
        Assert.Equal(DatasetsFixture.ChatModel, defaulted.Data["model"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, none.Status);
        Assert.Equal("model", none.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("POST /api/v1/providers", none.Body!["error"]!["details"]![0]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Query_Invalid_Is422_UnknownNamespace404_GenerationWithoutModelsScope403()
    {
        var (user, ns) = await IndexedAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/rag/query", new { @namespace = ns }, user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/rag/query", new { query = "x", @namespace = ns, generate_response = true, model = "" }, user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/rag/query", new { query = "x", @namespace = "bad/ns" }, user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync("/api/v1/rag/query", new { query = "x", @namespace = "nothing-here" }, user.AccessToken)).Status);
        var key = await _client.CreateKeyAsync(user, ["datasets:read"]);
        var forbidden = await _client.ApiPostAsync("/api/v1/rag/query", new { query = "pricing", @namespace = ns, generate_response = true, model = DatasetsFixture.ChatModel }, null, Users.ApiKey(key));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/rag/index", new { documents = new[] { new { content = "no id" } } }, user.AccessToken)).Status);
    }

    [Fact]
    public async Task DeleteDocument_RemovesItFromTheNamespace_AndNamespacesAreWorkspaceScoped()
    {
        var (user, ns) = await IndexedAsync();
        var stranger = await _client.RegisterAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/rag/documents/doc_pricing?namespace={ns}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync("/api/v1/rag/query", new { query = "pricing", @namespace = ns }, stranger.AccessToken)).Status);

        var deleted = await _client.ApiDeleteAsync($"/api/v1/rag/documents/doc_pricing?namespace={ns}", user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.True(deleted.Data["deleted"]!.GetValue<bool>());
        Assert.Equal("doc_pricing", deleted.Data["document_id"]!.GetValue<string>());
        Assert.Equal(ns, deleted.Data["namespace"]!.GetValue<string>());

        var after = await _client.ApiPostAsync("/api/v1/rag/query", new { query = "pricing seat dollars", @namespace = ns, top_k = 5 }, user.AccessToken);
        Assert.DoesNotContain(after.Data["relevant_documents"]!.AsArray(), d => d!["id"]!.GetValue<string>() == "doc_pricing");
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/rag/documents/doc_pricing?namespace={ns}", user.AccessToken)).Status);
    }

    [Fact]
    public async Task Index_AgainWithTheSameId_ReplacesTheDocument()
    {
        var (user, ns) = await IndexedAsync();

        var again = await _client.ApiPostAsync("/api/v1/rag/index",
            new { @namespace = ns, documents = new[] { new { id = "doc_pricing", content = "Pricing is now free for everyone.", metadata = new JsonObject() } } }, user.AccessToken);
        await _client.WaitForIngestionAsync(user, again.Data["dataset_id"]!.GetValue<string>(), expected: 2);

        var hit = (await _client.ApiPostAsync("/api/v1/rag/query", new { query = "pricing", @namespace = ns, top_k = 1 }, user.AccessToken)).Data["relevant_documents"]![0]!;
        Assert.Equal("Pricing is now free for everyone.", hit["content"]!.GetValue<string>());
    }
}
