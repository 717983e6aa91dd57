using System.Net;
using Serverless.Functions.Tests.Features.Datasets;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Chat;

/// <summary>Chat apps over real datasets: the datasets feature's retriever, ingestion and index, not a stand-in.</summary>
public sealed class ChatWithDatasetsTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<string> IngestedDatasetAsync(TestUser user, object dataset)
    {
        var id = await _client.CreateDatasetAsync(user, dataset);
        await _client.UploadJsonAsync(user, id,
            new { id = "refunds", title = "Refund policy", content = "Refunds are paid back within five business days of the return arriving." },
            new { id = "shipping", title = "Shipping", content = "Parcels ship from Rotterdam and arrive in two to four days." });
        var documents = await _client.WaitForIngestionAsync(user, id, expected: 2);
        Assert.All(documents, d => Assert.Equal("completed", d["status"]!.GetValue<string>()));
        return id;
    }

    private string LastSystemPrompt() =>
        fixture.Model.Received.Last(r => r.Path == "/v1/chat/completions").Body!["messages"]![0]!["content"]!.GetValue<string>();

    [Fact]
    public async Task ChatbotWithAnEmbeddedDataset_RetrievesTheAnsweringDocument_AndCitesIt()
    {
        var user = await _client.RegisterAsync();
        var dataset = await IngestedDatasetAsync(user, new { name = "help", embeddingModel = DatasetsFixture.EmbeddingModel });
        var appId = await _client.CreateAppAsync(user, new { model = DatasetsFixture.ChatModel, systemPrompt = "You are the help desk.", datasetIds = new[] { dataset } });

        var answer = await _client.ChatAsync(user, new { appId, message = "How many business days until refunds are paid back?" });

        var first = answer["citations"]!.AsArray()[0]!;
        Assert.Equal(1, first["citation"]!.GetValue<int>());
        Assert.Equal("refunds", first["documentId"]!.GetValue<string>());
        Assert.Equal(dataset, first["datasetId"]!.GetValue<string>());
        var system = LastSystemPrompt();
        Assert.StartsWith("You are the help desk.", system, StringComparison.Ordinal);
        Assert.Contains("[1] Refund policy", system, StringComparison.Ordinal);
        Assert.Contains("within five business days", system, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatbotWithAFulltextOnlyDataset_SearchesItByText()
    {
        var user = await _client.RegisterAsync();
        var dataset = await IngestedDatasetAsync(user, new { name = "no vectors" });
        var appId = await _client.CreateAppAsync(user, new { model = DatasetsFixture.ChatModel, datasetIds = new[] { dataset } });

        var answer = await _client.ChatAsync(user, new { appId, message = "Where do parcels ship from?" });

        Assert.Equal("shipping", answer["citations"]!.AsArray()[0]!["documentId"]!.GetValue<string>());
        Assert.Contains("Rotterdam", LastSystemPrompt(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatbotNamingAnotherWorkspacesDataset_IsAConflict_AndRetrievesNothingFromIt()
    {
        var owner = await _client.RegisterAsync();
        var foreign = await IngestedDatasetAsync(owner, new { name = "private", embeddingModel = DatasetsFixture.EmbeddingModel });
        var stranger = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(stranger, new { model = DatasetsFixture.ChatModel, datasetIds = new[] { foreign } });
        var calls = fixture.Model.Received.Count(r => r.Path == "/v1/chat/completions");

        var answered = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "refunds?" }, stranger.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, answered.Status);
        Assert.Contains(foreign, answered.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(calls, fixture.Model.Received.Count(r => r.Path == "/v1/chat/completions"));
    }

    [Fact]
    public async Task EmbeddingTheMessageFailing_Is502_AndStoresNoTurn()
    {
        var user = await _client.RegisterAsync();
        var dataset = await IngestedDatasetAsync(user, new { name = "help", embeddingModel = DatasetsFixture.EmbeddingModel });
        var appId = await _client.CreateAppAsync(user, new { model = DatasetsFixture.ChatModel, datasetIds = new[] { dataset } });
        fixture.Model.EnqueueStatus(500);

        var answered = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "refunds?" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.BadGateway, answered.Status);
        Assert.Equal("AI_SERVICE_ERROR", answered.Body!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("/v1/embeddings", fixture.Model.Received.Last().Path);
        Assert.Empty((await _client.ApiGetAsync($"/api/v1/chat/history?appId={appId}", user.AccessToken)).Data.AsArray());
    }
}
