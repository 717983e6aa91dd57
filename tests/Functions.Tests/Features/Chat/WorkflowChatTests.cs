using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Chat;

/// <summary>Workflow apps: the message runs the app's workflow; its llm node streams tokens into the chat.</summary>
public sealed partial class ChatTests
{
    private const string Answer = "The quick brown fox jumps over the lazy dog.";

    private static JsonObject LlmFlow(object outputs, bool stream = true) => Line(outputs,
        Node("think", "llm", new { model = "gpt-test", systemPrompt = "History: {{inputs.history}}", userPrompt = "{{inputs.message}} ({{inputs.variables.tone}})", stream }));

    [Fact]
    public async Task WorkflowApp_Streamed_SendsNodeEventsAndTheLlmNodesTokens_ThenEnd()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { }, "workflow", LlmFlow(new { answer = "{{think.text}}" }));
        fixture.Primary.EnqueueReply(Answer);

        var (_, events) = await _client.StreamAsync(user, "/api/v1/chat/completions",
            new { appId, message = "Tell me a pangram", variables = new { tone = "dry" }, stream = true });

        var types = events.Select(e => e.Type).ToList();
        Assert.Equal("start", types[0]);
        var runId = events[0].Data["runId"]!.GetValue<string>();
        Assert.StartsWith("exe", runId, StringComparison.Ordinal);
        Assert.Contains("node.started", types);
        Assert.Contains("node.output", types);
        Assert.True(types.IndexOf("token") < types.LastIndexOf("node.output"));
        Assert.Equal(Answer, string.Concat(events.Where(e => e.Type == "token").Select(e => e.Data["content"]!.GetValue<string>())));
        Assert.All(events.Where(e => e.Type == "token"), e => Assert.Equal("think", e.Data["nodeId"]!.GetValue<string>()));
        Assert.Equal("end", types[^1]);
        Assert.Equal(runId, events[^1].Data["runId"]!.GetValue<string>());
        Assert.Equal(15, events[^1].Data["tokenUsage"]!["totalTokens"]!.GetValue<int>());
        Assert.Equal("Tell me a pangram (dry)", Contents(LastUpstreamChat())[^1]);
        var stored = await _client.HistoryAsync(user, "chatId=" + events[0].Data["chatId"]!.GetValue<string>());
        Assert.Equal(Answer, stored[1]["content"]!.GetValue<string>());
        Assert.Equal(runId, stored[1]["runId"]!.GetValue<string>());

        // The run's own event stream shows the same tokens, batched into few log entries.
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{runId}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        var body = await (await _client.SendAsync(request)).Content.ReadAsStringAsync();
        var tokenEvents = body.Split("\n").Count(l => l == "event: node.token");
        Assert.InRange(tokenEvents, 1, Answer.Length / 4);
    }

    [Fact]
    public async Task WorkflowApp_NonStreamed_AnswersFromTheRun_AndPassesTheHistoryOnTheNextTurn()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { }, "workflow", LlmFlow(new { other = "{{think.model}}" }, stream: false));
        fixture.Primary.EnqueueReply(Answer);

        var first = await _client.ChatAsync(user, new { appId, message = "first" });
        var second = await _client.ChatAsync(user, new { appId, chatId = first["chatId"]!.GetValue<string>(), message = "second" });

        // No output named response/answer/text: the answer is the text of the llm node that finished last.
        Assert.Equal(Answer, first["response"]!.GetValue<string>());
        Assert.StartsWith("exe", first["runId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(15, first["tokenUsage"]!["totalTokens"]!.GetValue<int>());
        var system = Contents(LastUpstreamChat())[0];
        Assert.Contains("\"content\":\"first\"", system, StringComparison.Ordinal);
        Assert.Contains(Answer, system, StringComparison.Ordinal);
        Assert.Equal("echo: second ()", second["response"]!.GetValue<string>());
        Assert.False(LastUpstreamChat()["stream"]?.GetValue<bool>() ?? false);
    }

    [Fact]
    public async Task WorkflowApp_RunFailing_Is502WithTheRunsError_OrAnErrorEvent()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { }, "workflow", Line(new { answer = "{{think.text}}" },
            Node("think", "llm", new { model = "no-such-model", userPrompt = "{{inputs.message}}" })));

        var failed = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "hi" }, user.AccessToken);
        var (_, events) = await _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, message = "hi", stream = true });

        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal("WORKFLOW_ERROR", failed.ErrorCode);
        Assert.Contains("AI_SERVICE_ERROR", failed.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("error", events[^1].Type);
        Assert.Contains("node.failed", events.Select(e => e.Type));
        Assert.Empty(await _client.HistoryAsync(user, "appId=" + appId));
    }

    [Fact]
    public async Task WorkflowApp_AnswerOutputNamedResponse_WinsOverTheLlmText()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { }, "workflow", Line(new { response = "Re: {{inputs.query}}" }));

        var answer = await _client.ChatAsync(user, new { appId, message = "ping" });

        Assert.Equal("Re: ping", answer["response"]!.GetValue<string>());
        Assert.Equal(0, answer["tokenUsage"]!["totalTokens"]!.GetValue<int>());
    }
}

/// <summary>Runs carry who started them: the llm nodes call models under the starting key's limits.</summary>
public sealed partial class ChatTests
{
    private async Task<(TestUser User, Dictionary<string, string> Key, string KeyId)> UserWithSoloKeyAsync()
    {
        var user = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/user/api-keys", new
        {
            name = "solo only",
            scopes = new[] { "chat:read", "chat:write", "workflows:read", "workflows:write", "workflows:execute", "apps:write", "usage:read" },
            allowedModels = new[] { "solo" },
        }, user.AccessToken);
        return (user, Users.ApiKey(created.Data["key"]!.GetValue<string>()), created.Data["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task WorkflowApp_ChattedWithAKey_RunsItsLlmNodesUnderTheKeysAllowList()
    {
        var (user, key, keyId) = await UserWithSoloKeyAsync();
        var refusedApp = await _client.CreateAppAsync(user, new { }, "workflow", LlmFlow(new { answer = "{{think.text}}" }));
        var allowedApp = await _client.CreateAppAsync(user, new { }, "workflow", Line(new { answer = "{{think.text}}" },
            Node("think", "llm", new { model = "solo", userPrompt = "{{inputs.message}}" })));

        var refused = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId = refusedApp, message = "hi" }, null, key);
        var allowed = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId = allowedApp, message = "hi" }, null, key);
        var bySession = await _client.ChatAsync(user, new { appId = refusedApp, message = "as myself" });

        Assert.Equal(HttpStatusCode.BadGateway, refused.Status);
        Assert.Contains("may not use the model 'gpt-test'", refused.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal("Hello!", allowed.Data["response"]!.GetValue<string>());
        Assert.Equal("Hello!", bySession["response"]!.GetValue<string>());
        var rows = await _client.WaitForUsageAsync(user.AccessToken, 2);
        Assert.Contains(rows, r => r["source"]!.GetValue<string>() == "workflow" && r["apiKeyId"]?.GetValue<string>() == keyId && r["model"]!.GetValue<string>() == "solo");
        Assert.Contains(rows, r => r["source"]!.GetValue<string>() == "workflow" && r["apiKeyId"] is null && r["userId"]!.GetValue<string>() == user.Id);
    }

    [Fact]
    public async Task WorkflowRun_StartedWithAKey_AppliesItsAllowListInsideTheRun()
    {
        var (user, key, _) = await UserWithSoloKeyAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, LlmFlow(new { answer = "{{think.text}}" }));

        var run = await _client.ApiPostAsync($"/api/v1/workflows/{workflowId}/run", new { inputs = new { message = "hi" }, options = new { timeout = 20_000 } }, null, key);

        Assert.Equal("failed", run.Data["status"]!.GetValue<string>());
        Assert.Equal("AI_SERVICE_ERROR", run.Data["error"]!["code"]!.GetValue<string>());
        Assert.Contains("may not use the model", run.Data["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preset_ExecutedWithAKey_AppliesItsAllowListInsideTheRun()
    {
        var (user, key, _) = await UserWithSoloKeyAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, LlmFlow(new { answer = "{{think.text}}" }));
        var preset = await _client.ApiPostAsync("/api/v1/library/presets", new { workflowId, name = "ask", inputs = new { message = "hi" } }, user.AccessToken);

        var started = await _client.ApiPostAsync($"/api/v1/library/presets/{preset.Data["id"]!.GetValue<string>()}/execute", new { }, null, key);
        var run = await _client.WaitForAsync(user, started.Data["executionId"]!.GetValue<string>());

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Contains("may not use the model", run["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
