using System.Net;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Datasets;

public sealed class KnowledgeRetrievalNodeTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<(TestUser User, string Dataset)> DatasetAsync()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        await _client.UploadJsonAsync(user, id,
            new { id = "volcano", content = "Volcanoes erupt when magma pressure rises.", metadata = new { topic = "geology" } },
            new { id = "river", content = "Rivers carry sediment to the sea.", metadata = new { topic = "hydrology" } });
        await _client.WaitForIngestionAsync(user, id, expected: 2);
        return (user, id);
    }

    [Fact]
    public async Task Node_RetrievesChunksAndContext_ThatAnLlmNodeCanCite()
    {
        var (user, id) = await DatasetAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { chunks = "{{retrieve.chunks}}", context = "{{retrieve.context}}", answer = "{{answer.text}}" },
            Node("retrieve", "knowledge_retrieval", new { datasetIds = new[] { id }, query = "why do {{inputs.thing}} erupt", topK = 1, mode = "hybrid" }),
            Node("answer", "llm", new { model = DatasetsFixture.ChatModel, systemPrompt = "Use: {{retrieve.context}}", userPrompt = "{{inputs.thing}}?" })));

        var run = await _client.RunAsync(user, workflow, new { thing = "volcanoes" });

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var chunk = Assert.Single(run["outputs"]!["chunks"]!.AsArray())!;
        Assert.Equal("volcano", chunk["documentId"]!.GetValue<string>());
        Assert.Equal(1, chunk["citation"]!.GetValue<int>());
        Assert.Equal("geology", chunk["metadata"]!["topic"]!.GetValue<string>());
        Assert.Equal("[1] volcano\nVolcanoes erupt when magma pressure rises.", run["outputs"]!["context"]!.GetValue<string>());
        var sent = fixture.Model.Received.Last(r => r.Path == "/v1/chat/completions").Body!;
        Assert.Contains("[1] volcano", sent["messages"]![0]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Node_AppliesTheFilter_AndDefaultsToHybrid()
    {
        var (user, id) = await DatasetAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { chunks = "{{retrieve.chunks}}" },
            Node("retrieve", "knowledge_retrieval", new { datasetIds = new[] { id }, query = "volcanoes magma", filter = new { topic = "hydrology" } })));

        var run = await _client.RunAsync(user, workflow);

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(["river"], run["outputs"]!["chunks"]!.AsArray().Select(c => c!["documentId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Node_WithAnotherWorkspacesDataset_FailsWithDatasetNotFound()
    {
        var (_, id) = await DatasetAsync();
        var stranger = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(stranger, Line(new { chunks = "{{retrieve.chunks}}" },
            Node("retrieve", "knowledge_retrieval", new { datasetIds = new[] { id }, query = "volcano", mode = "fulltext" })));

        var execution = await _client.ExecuteAsync(stranger, workflow);
        var run = await _client.WaitForAsync(stranger, execution);

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        var node = NodeOf(run, "retrieve");
        Assert.Contains("DATASET_NOT_FOUND", node.ToJsonString());
        Assert.DoesNotContain("Volcanoes erupt", run.ToJsonString());
    }

    [Theory]
    [InlineData("""{"query":"x"}""")]
    [InlineData("""{"datasetIds":[],"query":"x"}""")]
    [InlineData("""{"datasetIds":["d"],"query":"x","topK":0}""")]
    [InlineData("""{"datasetIds":["d"],"query":"x","mode":"semantic"}""")]
    [InlineData("""{"datasetIds":["d"],"query":"x","filter":"topic"}""")]
    public async Task Node_InvalidConfig_IsRefusedWhenTheWorkflowIsSaved(string config)
    {
        var user = await _client.RegisterAsync();
        var definition = Line(new { }, Node("retrieve", "knowledge_retrieval"));
        definition["nodes"]![1]!["config"] = System.Text.Json.Nodes.JsonNode.Parse(config);

        var response = await _client.ApiPostAsync("/api/v1/workflows", new System.Text.Json.Nodes.JsonObject { ["name"] = "bad", ["definition"] = definition }.ToJsonString(), user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
    }

    [Fact]
    public async Task Node_IsPublishedInTheBlockCatalog()
    {
        var user = await _client.RegisterAsync();

        var blocks = (await _client.ApiGetAsync("/api/v1/blocks", user.AccessToken)).Data.AsArray();

        Assert.Contains(blocks, b => b!.ToJsonString().Contains("\"knowledge_retrieval\"", StringComparison.Ordinal));
    }
}
