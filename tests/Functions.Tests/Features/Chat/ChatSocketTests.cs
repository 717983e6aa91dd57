using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Chat;

/// <summary>The gateway fixture with workflow apps running and a small execute budget, so a test can use it up.</summary>
public sealed class ChatSocketFixture : GatewayFixture
{
    public const int ExecutePerMinute = 4;

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "true",
        ["Workflows:HeartbeatSeconds"] = "1",
        ["RateLimits:ExecutePerMinute"] = ExecutePerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

public sealed class ChatSocketTests(ChatSocketFixture fixture) : IClassFixture<ChatSocketFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<WebSocket> ConnectAsync(TestUser user)
    {
        var ws = fixture.Factory.Server.CreateWebSocketClient();
        return await ws.ConnectAsync(new Uri(fixture.Factory.Server.BaseAddress, $"api/v1/chat/stream?access_token={user.AccessToken}"), CancellationToken.None);
    }

    private static Task SendAsync(WebSocket socket, object message) => SendTextAsync(socket, System.Text.Json.JsonSerializer.Serialize(message));

    private static Task SendTextAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonNode> ReceiveAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var buffer = new byte[64 * 1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.True(received.EndOfMessage);
        return JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, received.Count))!;
    }

    /// <summary>The frames of one turn, through its end or error frame.</summary>
    private static async Task<List<JsonNode>> ReceiveTurnAsync(WebSocket socket)
    {
        var frames = new List<JsonNode>();
        do
        {
            frames.Add(await ReceiveAsync(socket));
        }
        while (Type(frames[^1]) is not ("end" or "error"));

        return frames;
    }

    private static string Type(JsonNode frame) => frame["type"]!.GetValue<string>();

    private static string Text(IEnumerable<JsonNode> frames) =>
        string.Concat(frames.Where(f => Type(f) == "token").Select(f => f["content"]!.GetValue<string>()));

    [Fact]
    public async Task Socket_SeveralTurns_EachStreamsStartTokensEnd_AndTheNextContinuesTheChat()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { model = "gpt-test", systemPrompt = "Be brief." });
        using var socket = await ConnectAsync(user);

        await SendAsync(socket, new { type = "chat", turnId = "first", appId, message = "Hi there" });
        var first = await ReceiveTurnAsync(socket);
        var chatId = first[0]["chatId"]!.GetValue<string>();
        await SendAsync(socket, new { type = "chat", appId, chatId, message = "And again?" });
        var second = await ReceiveTurnAsync(socket);

        Assert.Equal("start", Type(first[0]));
        Assert.Equal("end", Type(first[^1]));
        Assert.All(first, f => Assert.Equal("first", f["turnId"]!.GetValue<string>()));
        Assert.Equal("Hello!", Text(first));
        Assert.Equal(chatId, first[^1]["chatId"]!.GetValue<string>());
        Assert.Equal(15, first[^1]["tokenUsage"]!["totalTokens"]!.GetValue<int>());
        Assert.Equal(15, first[^1]["tokenUsage"]!["total"]!.GetValue<int>());
        Assert.NotNull(first[^1]["citations"]);
        var secondTurn = second[0]["turnId"]!.GetValue<string>();
        Assert.NotEqual("first", secondTurn);
        Assert.All(second, f => Assert.Equal(secondTurn, f["turnId"]!.GetValue<string>()));
        Assert.Equal(chatId, second[0]["chatId"]!.GetValue<string>());
        Assert.Equal("end", Type(second[^1]));
        var upstream = fixture.Primary.Received.Where(r => r.Path == "/v1/chat/completions").Select(r => r.Body!).Last();
        Assert.Equal(["Be brief.", "Hi there", "Hello!", "And again?"], upstream["messages"]!.AsArray().Select(m => m!["content"]!.GetValue<string>()));
        var stored = await _client.HistoryAsync(user, "chatId=" + chatId);
        Assert.Equal(["Hi there", "Hello!", "And again?", "Hello!"], stored.Select(m => m["content"]!.GetValue<string>()));
        Assert.Equal(second[^1]["messageId"]!.GetValue<string>(), stored[3]["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Socket_BadJsonUnknownTypesAndInvalidTurns_AreErrorFrames_AndTheSocketStaysOpen()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { model = "gpt-test" });
        using var socket = await ConnectAsync(user);

        await SendTextAsync(socket, "{\"type\": chat}");
        var badJson = await ReceiveAsync(socket);
        await SendTextAsync(socket, "{\"type\": \"chat\", \"appId\": \"" + appId + "\", \"message\": \"\\ud800\"}");
        var loneSurrogate = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "dance" });
        var unknown = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "chat", turnId = "t-invalid", message = "no app" });
        var invalid = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "chat", appId = "app_missing", message = "hello?" });
        var missing = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "ping" });
        var pong = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "chat", appId, message = "still there?" });
        var answered = await ReceiveTurnAsync(socket);

        Assert.Equal(("error", "INVALID_REQUEST", 400), (Type(badJson), badJson["code"]!.GetValue<string>(), badJson["status"]!.GetValue<int>()));
        Assert.Contains("not valid JSON", badJson["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(badJson["turnId"]);
        Assert.Equal("INVALID_REQUEST", loneSurrogate["code"]!.GetValue<string>());
        Assert.Contains("Unicode", loneSurrogate["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("INVALID_REQUEST", unknown["code"]!.GetValue<string>());
        Assert.Contains("'dance'", unknown["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(("VALIDATION_ERROR", 422, "t-invalid"), (invalid["code"]!.GetValue<string>(), invalid["status"]!.GetValue<int>(), invalid["turnId"]!.GetValue<string>()));
        Assert.Equal("appId", invalid["details"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(("NOT_FOUND", 404), (missing["code"]!.GetValue<string>(), missing["status"]!.GetValue<int>()));
        Assert.Equal("pong", Type(pong));
        Assert.Equal("end", Type(answered[^1]));
        Assert.Equal("Hello!", Text(answered));
    }

    [Fact]
    public async Task Socket_ASecondTurnWhileOneIsAnswered_IsRefused_AndCancelEndsTheFirstWithoutStoringIt()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { model = "gpt-test" });
        using var socket = await ConnectAsync(user);

        // "hang" makes the fake hold its stream open after the first piece until the gateway lets go of it.
        await SendAsync(socket, new { type = "chat", turnId = "slow", appId, message = "hang on" });
        var start = await ReceiveAsync(socket);
        var token = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "chat", turnId = "eager", appId, message = "me too" });
        var refused = await ReceiveAsync(socket);
        await SendAsync(socket, new { type = "cancel" });
        var cancelled = await ReceiveAsync(socket);
        await fixture.Primary.StreamAborted.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await SendAsync(socket, new { type = "cancel" });
        var nothingToCancel = await ReceiveAsync(socket);

        Assert.Equal(("start", "token"), (Type(start), Type(token)));
        Assert.Equal(("error", "CONFLICT", "eager"), (Type(refused), refused["code"]!.GetValue<string>(), refused["turnId"]!.GetValue<string>()));
        Assert.Contains("slow", refused["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(("error", "CANCELLED", "slow"), (Type(cancelled), cancelled["code"]!.GetValue<string>(), cancelled["turnId"]!.GetValue<string>()));
        Assert.Equal("NOT_FOUND", nothingToCancel["code"]!.GetValue<string>());
        // The turn opened a chat; cancelled before its answer was stored, it keeps nothing, as when an SSE client leaves.
        Assert.Empty(await _client.HistoryAsync(user, "appId=" + appId));
    }

    [Fact]
    public async Task Socket_EachTurnCountsLikeAStreamedPost_AgainstTheExecuteRateLimit()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { model = "gpt-test" });
        using var socket = await ConnectAsync(user);
        var limit = ChatSocketFixture.ExecutePerMinute;

        await _client.ChatAsync(user, new { appId, message = "over HTTP" });
        var turns = new List<List<JsonNode>>();
        for (var i = 1; i < limit + 1; i++)
        {
            await SendAsync(socket, new { type = "chat", appId, message = $"turn {i}" });
            turns.Add(await ReceiveTurnAsync(socket));
        }

        await SendAsync(socket, new { type = "ping" });
        var pong = await ReceiveAsync(socket);

        Assert.All(turns.Take(limit - 1), t => Assert.True(Type(t[^1]) == "end", t[^1].ToJsonString()));
        var limited = Assert.Single(turns[^1]);
        Assert.Equal(("error", "RATE_LIMIT_EXCEEDED", 429), (Type(limited), limited["code"]!.GetValue<string>(), limited["status"]!.GetValue<int>()));
        Assert.InRange(limited["retryAfter"]!.GetValue<int>(), 1, 60);
        Assert.Equal("pong", Type(pong));
    }

    [Fact]
    public async Task Socket_WorkflowApp_SendsTheRunsNodeEventsAndLlmTokens_ThenEnd()
    {
        const string answer = "The quick brown fox jumps over the lazy dog.";
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { }, "workflow",
            Line(new { answer = "{{think.text}}" }, Node("think", "llm", new { model = "gpt-test", userPrompt = "{{inputs.message}}" })));
        fixture.Primary.EnqueueReply(answer);
        using var socket = await ConnectAsync(user);

        await SendAsync(socket, new { type = "chat", appId, message = "Tell me a pangram" });
        var frames = await ReceiveTurnAsync(socket);

        var types = frames.Select(Type).ToList();
        Assert.Equal("start", types[0]);
        var runId = frames[0]["runId"]!.GetValue<string>();
        Assert.Contains("node.started", types);
        Assert.Equal(answer, Text(frames));
        Assert.All(frames.Where(f => Type(f) == "token"), f => Assert.Equal("think", f["nodeId"]!.GetValue<string>()));
        Assert.Equal("end", types[^1]);
        Assert.Equal(runId, frames[^1]["runId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Socket_WithoutACredential_IsRefusedAt401()
    {
        var ws = fixture.Factory.Server.CreateWebSocketClient();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() =>
            ws.ConnectAsync(new Uri(fixture.Factory.Server.BaseAddress, "api/v1/chat/stream"), CancellationToken.None));

        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
    }
}
