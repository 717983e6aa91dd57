using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Tasks;

public sealed class AssistantTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Assistant_CreatesThenCompletesATask_ThroughToolCalls_KeepingHistoryPerSession()
    {
        var user = await _client.RegisterAsync();
        fixture.Primary.EnqueueToolCalls(("create_task", new { name = "Write report", priority = "high", tags = new[] { "work" } }));
        fixture.Primary.EnqueueReply("I created the task.");

        var first = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "Remind me to write the report", model = "solo" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("I created the task.", first.Data["response"]!.GetValue<string>());
        var created = Assert.Single(first.Data["tasks"]!.AsArray())!;
        Assert.Equal("Write report", created["name"]!.GetValue<string>());
        Assert.Equal("high", created["priority"]!.GetValue<string>());
        var sessionId = first.Data["sessionId"]!.GetValue<string>();
        var taskId = created["id"]!.GetValue<string>();
        var toolRound = fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions").Body!;
        Assert.Equal("tool", toolRound["messages"]!.AsArray()[^1]!["role"]!.GetValue<string>());
        Assert.Equal(["complete_task", "create_task", "list_plugins", "list_processes", "list_tasks", "run_plugin", "run_process", "update_task"],
            toolRound["tools"]!.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        fixture.Primary.EnqueueToolCalls(("complete_task", new { task_id = taskId }));
        fixture.Primary.EnqueueReply("Marked it done.");
        var second = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "I finished it", sessionId, model = "solo" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(sessionId, second.Data["sessionId"]!.GetValue<string>());
        Assert.Equal("completed", second.Data["tasks"]![0]!["status"]!.GetValue<string>());
        var stored = await _client.ApiGetAsync($"/api/v1/tasks/{taskId}", user.AccessToken);
        Assert.Equal("completed", stored.Data["status"]!.GetValue<string>());
        var withHistory = fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions").Body!["messages"]!.ToJsonString();
        Assert.Contains("Remind me to write the report", withHistory);
        Assert.Contains("I finished it", withHistory);
    }

    [Fact]
    public async Task Assistant_BehflowSessionIdSnakeCase_ContinuesThatSession()
    {
        var user = await _client.RegisterAsync();
        fixture.Primary.EnqueueReply("Noted.");
        var first = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "My cat is called Tom", model = "solo" }, user.AccessToken);
        var sessionId = first.Data["sessionId"]!.GetValue<string>();

        fixture.Primary.EnqueueReply("Tom.");
        var second = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "What is my cat called?", session_id = sessionId, model = "solo" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(sessionId, second.Data["sessionId"]!.GetValue<string>());
        var sent = fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions").Body!["messages"]!.ToJsonString();
        Assert.Contains("My cat is called Tom", sent);
    }

    [Fact]
    public async Task Assistant_WithoutAModel_CallsTheWorkspacesFirstChatModel()
    {
        var user = await _client.RegisterAsync();
        fixture.Primary.EnqueueReply("Hello.");

        var response = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "hi" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("Hello.", response.Data["response"]!.GetValue<string>());
        Assert.Equal("upstream-gpt", fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions").Body!["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task Assistant_ListsAndUpdatesTasks_AndReportsToolErrorsToTheModel()
    {
        var user = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/tasks", new { name = "Old name" }, user.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();
        fixture.Primary.EnqueueToolCalls(("list_tasks", new { status = "not_started" }), ("update_task", new { task_id = "task_missing", name = "x" }));
        fixture.Primary.EnqueueToolCalls(("update_task", new { task_id = id, name = "New name", due_date = "2031-05-01" }));
        fixture.Primary.EnqueueReply("Renamed.");

        var response = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "rename my task", model = "solo" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("New name", Assert.Single(response.Data["tasks"]!.AsArray())!["name"]!.GetValue<string>());
        var messages = fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions").Body!["messages"]!.ToJsonString();
        Assert.Contains("Old name", messages);
        Assert.Contains("No task has the id", messages);
    }

    [Fact]
    public async Task AnotherMembersSession_IsNotFound_AndBadInputIs422()
    {
        var owner = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();
        var shared = (await _client.ApiPostAsync("/api/v1/workspaces", new { name = "team" }, owner.AccessToken)).Data["id"]!.GetValue<string>();
        await _client.ApiPostAsync($"/api/v1/workspaces/{shared}/members", new { userId = other.Id, role = "member" }, owner.AccessToken);
        var inShared = new Dictionary<string, string> { ["X-Workspace-Id"] = shared };
        fixture.Primary.EnqueueReply("hello");
        var first = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "hi", model = "solo" }, owner.AccessToken, inShared);

        var hijack = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "hi", sessionId = first.Data["sessionId"]!.GetValue<string>(), model = "solo" }, other.AccessToken, inShared);
        var invalid = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "", sessionId = "bad id!" }, owner.AccessToken);
        var unknownModel = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "hi", model = "nope" }, owner.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, hijack.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknownModel.Status);
        Assert.False(unknownModel.Body!["success"]!.GetValue<bool>());
    }
}
