using System.Net;
using Microsoft.AspNetCore.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Models;

public sealed class ChatCompletionTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private static object Chat(string model = "gpt-test", string text = "hi", bool stream = false) =>
        new { model, messages = new[] { new { role = "user", content = text } }, stream };

    [Fact]
    public async Task NonStream_ReturnsTheUpstreamAnswer_WithTheUpstreamModelNameSentUpstream()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat(text: "ping"), key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("chat.completion", response.Body!["object"]!.GetValue<string>());
        Assert.Equal("echo: ping", response.Body["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(15, response.Body["usage"]!["total_tokens"]!.GetValue<int>());
        var sent = fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions");
        Assert.Equal("upstream-gpt", sent.Body!["model"]!.GetValue<string>());
        Assert.Equal("Bearer sk-primary-secret", sent.Authorization);
    }

    [Fact]
    public async Task Stream_ForwardsChunksAsSse_EndsWithDone_AndHidesTheUsageChunkUnlessAsked()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var plain = await StreamAsync(key, Chat(stream: true));
        var withUsage = await StreamAsync(key, new { model = "gpt-test", messages = new[] { new { role = "user", content = "x" } }, stream = true, stream_options = new { include_usage = true } });

        Assert.Equal("[DONE]", plain[^1]);
        Assert.Equal("Hello!", string.Concat(plain.SkipLast(1).Select(d => JsonNode.Parse(d)!["choices"]!.AsArray().FirstOrDefault()?["delta"]?["content"]?.ToString())));
        Assert.DoesNotContain(plain, d => d.Contains("\"usage\":{", StringComparison.Ordinal));
        Assert.Contains(withUsage, d => d.Contains("\"usage\":{", StringComparison.Ordinal));
        Assert.True(fixture.Primary.Received.Where(r => r.Body?["stream"] is not null).All(r => r.Body!["stream_options"]!["include_usage"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task ToolsResponseFormatAndStreamOptions_PassThrough_AndToolCallsComeBack()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        fixture.Primary.EnqueueToolCalls(("get_weather", new { city = "Oslo" }));
        var request = new JsonObject
        {
            ["model"] = "gpt-test",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "weather?" }),
            ["tools"] = new JsonArray(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = "get_weather", ["parameters"] = new JsonObject { ["type"] = "object" } },
            }),
            ["response_format"] = new JsonObject { ["type"] = "json_object" },
            ["temperature"] = 0.2,
        };

        var response = await _client.ApiPostAsync("/v1/chat/completions", request.ToJsonString(), key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var call = response.Body!["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal("get_weather", call["function"]!["name"]!.GetValue<string>());
        Assert.Equal("tool_calls", response.Body["choices"]![0]!["finish_reason"]!.GetValue<string>());
        var sent = fixture.Primary.Received.Last(r => r.Body?["tools"] is not null).Body!;
        Assert.Equal("json_object", sent["response_format"]!["type"]!.GetValue<string>());
        Assert.Equal(0.2, sent["temperature"]!.GetValue<double>());
    }

    [Fact]
    public async Task Upstream429ThenSuccess_IsRetried_OnTheSameProvider()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        var secondaryBefore = fixture.Secondary.Received.Count;
        fixture.Primary.EnqueueStatus(429);

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat(text: "retry me"), key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("echo: retry me", response.Body!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(secondaryBefore, fixture.Secondary.Received.Count);
    }

    [Fact]
    public async Task Upstream500OnThePrimary_FallsBackToTheNextProviderOfTheModel()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        fixture.Primary.EnqueueStatus(500, times: 2);

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat(text: "fallback"), key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var sent = fixture.Secondary.Received.Last(r => r.Path == "/v1/chat/completions");
        Assert.Equal("gpt-test", sent.Body!["model"]!.GetValue<string>());
        Assert.Null(sent.Authorization);
    }

    [Fact]
    public async Task UpstreamErrorsEverywhere_Are502_InOpenAiShape()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        fixture.Primary.EnqueueStatus(503, times: 2);

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat("solo"), key);

        Assert.Equal(HttpStatusCode.BadGateway, response.Status);
        Assert.Equal("AI_SERVICE_ERROR", response.Body!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("api_error", response.Body["error"]!["type"]!.GetValue<string>());
        Assert.Null(response.Body["success"]);
    }

    [Fact]
    public async Task UpstreamTimeout_Is504_AfterTheRetry()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        fixture.Primary.EnqueueDelay(TimeSpan.FromSeconds(30));
        fixture.Primary.EnqueueDelay(TimeSpan.FromSeconds(30));

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat("solo"), key);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.Status);
        Assert.Equal("timeout_error", response.Body!["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task ClientDisconnectMidStream_CancelsTheUpstreamRequest()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(new JsonObject
            {
                ["model"] = "solo",
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hang" }),
                ["stream"] = true,
            }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var reader = new StreamReader(stream);
        var first = await reader.ReadLineAsync();
        Assert.StartsWith("data: ", first);
        response.Dispose();

        await fixture.Primary.StreamAborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // "cancelled", not "timeout": it was the client leaving that ended the upstream call, not the stall timer.
        var row = (await _client.WaitForUsageAsync(user.AccessToken))[0];
        Assert.Equal("cancelled", row["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_FromAProviderThatReportsNoUsage_RecordsAnEstimate()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        fixture.Primary.Enqueue(async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            foreach (var piece in new[] { "abcd", "efgh" })
            {
                await context.Response.WriteAsync($"data: {{\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{piece}\"}}}}]}}\n\n");
            }

            await context.Response.WriteAsync("data: [DONE]\n\n");
            return true;
        });

        var events = await StreamAsync(key, Chat("solo", "count me", stream: true));
        var row = (await _client.WaitForUsageAsync(user.AccessToken))[0];

        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(2, row["completionTokens"]!.GetValue<int>());
        Assert.True(row["promptTokens"]!.GetValue<int>() > 0);
        Assert.Equal("ok", row["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpstreamStallingMidStream_EndsTheStreamWithAnErrorEvent_AndNoDone()
    {
        var (user, key) = await fixture.UserWithKeyAsync();

        var started = DateTime.UtcNow;
        var events = await StreamAsync(key, Chat("solo", "hang", stream: true));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("[DONE]", events);
        Assert.Equal("timeout_error", JsonNode.Parse(events[^1])!["error"]!["type"]!.GetValue<string>());
        var row = (await _client.WaitForUsageAsync(user.AccessToken))[0];
        Assert.Equal("timeout", row["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownModel_Is404_InOpenAiShape()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat("no-such-model"), key);

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("model", response.Body!["error"]!["param"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", response.Body["error"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task BadInput_IsA4xxInOpenAiShape_NeverTheEnvelope()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var anonymous = await _client.ApiPostAsync("/v1/chat/completions", Chat());
        var malformed = await _client.ApiPostAsync("/v1/chat/completions", "{not json", key);
        var noMessages = await _client.ApiPostAsync("/v1/chat/completions", new { model = "gpt-test" }, key);
        var array = await _client.ApiPostAsync("/v1/chat/completions", "[]", key);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.Equal("authentication_error", anonymous.Body!["error"]!["type"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Assert.NotNull(malformed.Body!["error"]!["message"]);
        Assert.Equal(HttpStatusCode.BadRequest, noMessages.Status);
        Assert.Equal("messages", noMessages.Body!["error"]!["param"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, array.Status);
    }

    [Fact]
    public async Task Models_ListsEveryModelId_InOpenAiShape()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var response = await _client.ApiGetAsync("/v1/models", key);

        Assert.Equal("list", response.Body!["object"]!.GetValue<string>());
        var ids = response.Body["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["gpt-test", "solo", "embed-test", "llama3.2:1b"], ids);
        Assert.Equal("primary", response.Body["data"]![0]!["owned_by"]!.GetValue<string>());
    }

    [Fact]
    public async Task Embeddings_ReturnTheUpstreamVectors()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var response = await _client.ApiPostAsync("/v1/embeddings", new { model = "embed-test", input = "hello" }, key);
        var wrongKind = await _client.ApiPostAsync("/v1/embeddings", new { model = "gpt-test", input = "hello" }, key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(3, response.Body!["data"]![0]!["embedding"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.NotFound, wrongKind.Status);
    }

    private async Task<List<string>> StreamAsync(string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..])];
    }
}
