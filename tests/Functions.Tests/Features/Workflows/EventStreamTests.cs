using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

public sealed class EventStreamTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private sealed record SseEvent(long Id, string Type, JsonNode Data);

    /// <summary>Reads an SSE response to its end (or until <paramref name="stopAfter"/> events), returning events and comment lines.</summary>
    private static async Task<(List<SseEvent> Events, List<string> Comments)> ReadSseAsync(HttpResponseMessage response, int stopAfter = int.MaxValue)
    {
        var events = new List<SseEvent>();
        var comments = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        long id = 0;
        var type = "";
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith(':'))
            {
                comments.Add(line);
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..]);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(new SseEvent(id, type, JsonNode.Parse(line[6..])!));
                if (events.Count >= stopAfter)
                {
                    break;
                }
            }
        }

        return (events, comments);
    }

    private async Task<HttpResponseMessage> OpenAsync(TestUser user, string url, string? lastEventId = null, HttpMethod? method = null, object? body = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        if (body is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(body);
        }

        return await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    [Fact]
    public async Task Sse_OfAFinishedRun_ReplaysTheLogAndEnds_AndResumesAfterLastEventId()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }, Node("a", "set", new { values = new { x = 1 } })));
        var executionId = (await _client.RunAsync(user, id))["executionId"]!.GetValue<string>();

        var (all, _) = await ReadSseAsync(await OpenAsync(user, $"/api/v1/executions/{executionId}/events"));
        var (rest, _) = await ReadSseAsync(await OpenAsync(user, $"/api/v1/executions/{executionId}/events", lastEventId: all[1].Id.ToString()));

        Assert.Equal("execution.started", all[0].Type);
        Assert.Equal("execution.completed", all[^1].Type);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.Id));
        Assert.Equal(all.Skip(2).Select(e => e.Id), rest.Select(e => e.Id));
        Assert.Equal(executionId, all[0].Data["executionId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sse_OfALiveRun_FollowsItWithHeartbeatsUntilItEnds()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }, Node("pause", "delay", new { seconds = 1.5 })));
        var executionId = await _client.ExecuteAsync(user, id);

        var (events, comments) = await ReadSseAsync(await OpenAsync(user, $"/api/v1/executions/{executionId}/events"));

        var types = events.Select(e => e.Type).ToList();
        Assert.Contains("node.waiting", types);
        Assert.Contains("execution.paused", types);
        Assert.Equal("execution.completed", types[^1]);
        Assert.Contains(": heartbeat", comments);
    }

    [Fact]
    public async Task Sse_ClientLeavingEarly_DoesNotStopTheRun()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { done = true }, Node("pause", "delay", new { seconds = 1 })));
        var executionId = await _client.ExecuteAsync(user, id);

        using (var response = await OpenAsync(user, $"/api/v1/executions/{executionId}/events"))
        {
            await ReadSseAsync(response, stopAfter: 1);
        }

        var run = await _client.WaitForAsync(user, executionId);
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Run_WithStream_AnswersWithServerSentEvents()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { v = "{{inputs.v}}" }));

        var response = await OpenAsync(user, $"/api/v1/workflows/{id}/run", method: HttpMethod.Post, body: new { inputs = new { v = 3 }, options = new { stream = true } });
        var (events, _) = await ReadSseAsync(response);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(3, events[^1].Data["data"]!["outputs"]!["v"]!.GetValue<int>());
    }

    [Fact]
    public async Task Run_WithStreamAndIdempotencyKey_StillStreamsLive()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }, Node("pause", "delay", new { seconds = 1.5 })));
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/workflows/{id}/run")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { options = new { stream = true } }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var started = DateTime.UtcNow;

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var (first, _) = await ReadSseAsync(response, stopAfter: 1);

        Assert.Equal("execution.started", first[0].Type);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1.2), "The first event waited for the run to end.");
    }

    [Fact]
    public async Task WebSocket_SubscribedToARun_ReceivesItsEventsThroughCompletion()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }, Node("pause", "delay", new { seconds = 1 })));
        var executionId = await _client.ExecuteAsync(user, id);
        var ws = factory.Server.CreateWebSocketClient();
        using var socket = await ws.ConnectAsync(new Uri(factory.Server.BaseAddress, $"api/v1/ws?access_token={user.AccessToken}"), CancellationToken.None);

        await SendAsync(socket, new { action = "subscribe", executionId });
        var received = new List<JsonNode>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (received.LastOrDefault()?["type"]?.GetValue<string>() != "execution.completed")
        {
            received.Add(await ReceiveAsync(socket, timeout.Token));
        }

        var types = received.Select(m => m["type"]!.GetValue<string>()).ToList();
        Assert.Equal("subscribed", types[0]);
        Assert.Contains("execution.started", types);
        Assert.Contains("node.waiting", types);
        var seqs = received.Where(m => m["seq"] is not null).Select(m => m["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Distinct().Count(), seqs.Count);
    }

    [Fact]
    public async Task WebSocket_SubscribedToAWorkflow_ReceivesNewRuns_ButNotOtherWorkspaces()
    {
        var user = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }));
        var ws = factory.Server.CreateWebSocketClient();
        using var socket = await ws.ConnectAsync(new Uri(factory.Server.BaseAddress, $"api/v1/ws?access_token={stranger.AccessToken}"), CancellationToken.None);
        using var mine = await ws.ConnectAsync(new Uri(factory.Server.BaseAddress, $"api/v1/ws?access_token={user.AccessToken}"), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));

        await SendAsync(socket, new { action = "subscribe", workflowId = id });
        var refused = await ReceiveAsync(socket, timeout.Token);
        await SendAsync(mine, new { action = "subscribe", workflowId = id });
        Assert.Equal("subscribed", (await ReceiveAsync(mine, timeout.Token))["type"]!.GetValue<string>());
        await _client.RunAsync(user, id);
        JsonNode message;
        do
        {
            message = await ReceiveAsync(mine, timeout.Token);
        }
        while (message["type"]!.GetValue<string>() != "execution.completed");

        Assert.Equal("error", refused["type"]!.GetValue<string>());
        Assert.Equal(id, message["workflowId"]!.GetValue<string>());
    }

    [Fact]
    public async Task WebSocket_BadJson_IsAnErrorMessage_AndATooLargeMessageClosesWith1009()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }));
        var ws = factory.Server.CreateWebSocketClient();
        using var socket = await ws.ConnectAsync(new Uri(factory.Server.BaseAddress, $"api/v1/ws?access_token={user.AccessToken}"), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));

        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"action\": subscribe}"), WebSocketMessageType.Text, true, CancellationToken.None);
        var bad = await ReceiveAsync(socket, timeout.Token);
        await SendAsync(socket, new { action = "subscribe", workflowId = id });
        var subscribed = await ReceiveAsync(socket, timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes(new string(' ', 17 * 1024)), WebSocketMessageType.Text, true, CancellationToken.None);
        var tooLarge = await ReceiveAsync(socket, timeout.Token);
        var closing = await socket.ReceiveAsync(new byte[1024], timeout.Token);

        Assert.Equal("error", bad["type"]!.GetValue<string>());
        Assert.Contains("not valid JSON", bad["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("subscribed", subscribed["type"]!.GetValue<string>());
        Assert.Equal("PAYLOAD_TOO_LARGE", tooLarge["code"]!.GetValue<string>());
        Assert.Equal(WebSocketMessageType.Close, closing.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
    }

    [Fact]
    public async Task Progress_OfARunWithSlowNodes_IsReportedOverSseAndWebSocket_AsNodesStartAndFinish()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var user = await _client.RegisterAsync();
        var slow = (string id, int ms) => Node(id, "http_request", new { url = $"{upstream.BaseUrl}/slow?ms={ms}" });
        // start → a → (b | c) → end: b and c run side by side, b finishing first.
        var id = await _client.CreateWorkflowAsync(user, Definition(
            [Node("start", "start"), slow("a", 300), slow("b", 200), slow("c", 700), Node("end", "end", new { outputs = new { } })],
            [Edge("start", "a"), Edge("a", "b"), Edge("a", "c"), Edge("b", "end"), Edge("c", "end")]));
        var ws = factory.Server.CreateWebSocketClient();
        using var socket = await ws.ConnectAsync(new Uri(factory.Server.BaseAddress, $"api/v1/ws?access_token={user.AccessToken}"), CancellationToken.None);
        await SendAsync(socket, new { action = "subscribe", workflowId = id });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Equal("subscribed", (await ReceiveAsync(socket, timeout.Token))["type"]!.GetValue<string>());

        var executionId = await _client.ExecuteAsync(user, id);
        var (sse, _) = await ReadSseAsync(await OpenAsync(user, $"/api/v1/executions/{executionId}/events"));
        var frames = new List<JsonNode>();
        while (frames.LastOrDefault()?["type"]?.GetValue<string>() != "execution.completed")
        {
            frames.Add(await ReceiveAsync(socket, timeout.Token));
        }

        var progress = sse.Where(e => e.Type == "execution.progress").Select(e => e.Data["data"]!).ToList();
        var current = progress.Select(p => string.Join(",", p["currentNodes"]!.AsArray().Select(n => n!["nodeId"]!.GetValue<string>()))).ToList();
        Assert.Equal(["a", "b,c", "c"], current);
        Assert.Equal([1, 2, 3], progress.Select(p => p["completedNodes"]!.GetValue<int>()));
        Assert.Equal([20, 40, 60], progress.Select(p => p["percent"]!.GetValue<int>()));
        Assert.All(progress, p => Assert.Equal(5, p["totalNodes"]!.GetValue<int>()));
        Assert.All(progress, p => Assert.Equal(p["currentNodes"]!.AsArray().Count, p["currentCount"]!.GetValue<int>()));
        Assert.All(progress.SelectMany(p => p["currentNodes"]!.AsArray()), n => Assert.Equal("http_request", n!["type"]!.GetValue<string>()));
        // Each report comes with the step that started its nodes, before they run; the run's end is its own event.
        var types = sse.Select(e => e.Type).ToList();
        Assert.True(types.IndexOf("execution.progress") < sse.FindIndex(e => e.Type == "node.started" && e.Data["nodeId"]?.GetValue<string>() == "a"));
        Assert.Equal("node.output", types[^2]);
        // The WebSocket sends the same log: the same reports at the same places.
        var overSocket = frames.Where(f => f["type"]!.GetValue<string>() == "execution.progress").ToList();
        Assert.Equal(sse.Where(e => e.Type == "execution.progress").Select(e => e.Id), overSocket.Select(f => f["seq"]!.GetValue<long>()));
        Assert.Equal(progress.Select(p => p.ToJsonString()), overSocket.Select(f => f["data"]!.ToJsonString()));
        Assert.All(overSocket, f => Assert.Equal(executionId, f["executionId"]!.GetValue<string>()));
    }

    private static Task SendAsync(WebSocket socket, object message) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(message)), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonNode> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, cancellationToken);
        return JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count))!;
    }
}
