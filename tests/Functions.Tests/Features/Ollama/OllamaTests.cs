using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Ollama;

public sealed class OllamaTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Models_ListsTheServersModels_InForgeTmShape()
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiGetAsync("/api/v1/ollama/models", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var model = response.Data["models"]![0]!;
        Assert.Equal("llama3.2:1b", model["name"]!.GetValue<string>());
        Assert.Equal("1.3GB", model["size"]!.GetValue<string>());
        Assert.Equal("llama", model["details"]!["family"]!.GetValue<string>());
        Assert.Equal("local-ollama", response.Data["provider"]!.GetValue<string>());
    }

    [Fact]
    public async Task Generate_NonStream_AnswersOllamasObject_AndRecordsUsage()
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPostAsync("/api/v1/ollama/generate", new { model = "llama3.2:1b", prompt = "hi", options = new { temperature = 0.7 } }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("generated", response.Data["response"]!.GetValue<string>());
        Assert.True(response.Data["done"]!.GetValue<bool>());
        var sent = fixture.Primary.Received.Last(r => r.Path == "/api/generate").Body!;
        Assert.Equal(0.7, sent["options"]!["temperature"]!.GetValue<double>());
        var usage = (await _client.WaitForUsageAsync(user.AccessToken))[0];
        Assert.Equal(7, usage["promptTokens"]!.GetValue<int>());
        Assert.Equal(3, usage["completionTokens"]!.GetValue<int>());
        Assert.Equal(0.001m, usage["costUsd"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Generate_Stream_ForwardsNdjsonLines()
    {
        var user = await _client.RegisterAsync();

        var lines = await PostStreamAsync("/api/v1/ollama/generate", new { model = "llama3.2:1b", prompt = "hi", stream = true }, user.AccessToken);

        Assert.Equal("generated", string.Concat(lines.Select(l => JsonNode.Parse(l)!["response"]!.GetValue<string>())));
        Assert.True(JsonNode.Parse(lines[^1])!["done"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Pull_StreamsProgress_OnTheWorkspacesOwnOllama_AndDeleteRemovesAModel()
    {
        var user = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/providers", new
        {
            name = "my-ollama",
            kind = "ollama",
            baseUrl = fixture.Primary.BaseUrl.ToString(),
            models = new[] { new { id = "mine:latest" } },
        }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);

        var lines = await PostStreamAsync("/api/v1/ollama/pull", new { name = "mine:latest", provider = "my-ollama" }, user.AccessToken);
        var deleted = await _client.ApiDeleteAsync("/api/v1/ollama/models/mine:latest?provider=my-ollama", user.AccessToken);
        var missing = await _client.ApiDeleteAsync("/api/v1/ollama/models/missing:latest?provider=my-ollama", user.AccessToken);

        Assert.Equal(["pulling manifest", "downloading", "success"], lines.Select(l => JsonNode.Parse(l)!["status"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.True(deleted.Data["deleted"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
    }

    [Fact]
    public async Task PullOnTheOperatorsServer_ByAnOrdinaryUser_Is403()
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPostAsync("/api/v1/ollama/pull", new { name = "x", provider = "local-ollama" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
    }

    [Fact]
    public async Task OperatorsServer_APlatformAdminsKeyWithEveryScope_PullsAndDeletes_ANarrowerKeyIs403()
    {
        var scopes = (await _client.ApiGetAsync("/api/v1/auth/scopes")).Data.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToArray();
        var everyScope = await _client.CreateKeyAsync(fixture.Operator, scopes);
        var narrower = await _client.CreateKeyAsync(fixture.Operator, ["providers:read", "providers:write"]);

        var lines = await PostStreamAsync("/api/v1/ollama/pull", new { name = "llama3.2:1b", provider = "local-ollama" }, everyScope);
        var deleted = await _client.ApiDeleteAsync("/api/v1/ollama/models/llama3.2:1b?provider=local-ollama", everyScope);
        var refused = await _client.ApiPostAsync("/api/v1/ollama/pull", new { name = "x", provider = "local-ollama" }, narrower);

        Assert.Equal("success", JsonNode.Parse(lines[^1])!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
    }

    [Fact]
    public async Task UnknownProvider_Is404_AndBadInput422()
    {
        var user = await _client.RegisterAsync();

        var unknown = await _client.ApiGetAsync("/api/v1/ollama/models?provider=nope", user.AccessToken);
        var invalid = await _client.ApiPostAsync("/api/v1/ollama/generate", new { model = "", prompt = "" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
    }

    private async Task<List<string>> PostStreamAsync(string url, object body, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        return [.. (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
