using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Apps;

public sealed class AppTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonNode> CreateWorkflowAppAsync(TestUser user, string name = "Support bot")
    {
        var body = new JsonObject
        {
            ["name"] = name,
            ["type"] = "workflow",
            ["config"] = new JsonObject { ["model"] = "gpt-4o-mini", ["temperature"] = 0.2, ["datasetIds"] = new JsonArray("ds_1") },
            ["tags"] = new JsonArray("support"),
            ["workflow"] = new JsonObject { ["name"] = "bot flow", ["definition"] = Line(new { reply = "Echo: {{inputs.message}}" }) },
        };
        var created = await _client.ApiPostAsync("/api/v1/apps", body.ToJsonString(), user.AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data;
    }

    [Fact]
    public async Task CreateWorkflowApp_CreatesItsRunnableWorkflow()
    {
        var user = await _client.RegisterAsync();

        var app = await CreateWorkflowAppAsync(user);
        var workflowId = app["workflowId"]!.GetValue<string>();
        var workflow = await _client.ApiGetAsync($"/api/v1/workflows/{workflowId}", user.AccessToken);
        var run = await _client.RunAsync(user, workflowId, new { message = "hi" });

        Assert.Equal("draft", app["status"]!.GetValue<string>());
        Assert.Equal(0.2, app["config"]!["temperature"]!.GetValue<double>());
        Assert.Equal(app["id"]!.GetValue<string>(), workflow.Data["appId"]!.GetValue<string>());
        Assert.Equal("Echo: hi", run["outputs"]!["reply"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_Invalid_Is422PerField_AndChatbotsHaveNoWorkflow()
    {
        var user = await _client.RegisterAsync();

        var invalid = await _client.ApiPostAsync("/api/v1/apps", new { name = "", type = "robot", config = new { temperature = 5 } }, user.AccessToken);
        var chatbot = await _client.ApiPostAsync("/api/v1/apps", new { name = "Chat", config = new { systemPrompt = "Be brief." } }, user.AccessToken);

        var fields = invalid.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()).ToList();
        Assert.Equal(["name", "type", "config.temperature"], fields);
        Assert.Equal("chatbot", chatbot.Data["type"]!.GetValue<string>());
        Assert.Null(chatbot.Data["workflowId"]);
    }

    [Fact]
    public async Task Update_PublishesAndMergesConfig_ButNeverChangesType()
    {
        var user = await _client.RegisterAsync();
        var app = await CreateWorkflowAppAsync(user);
        var id = app["id"]!.GetValue<string>();

        var published = await _client.ApiPutAsync($"/api/v1/apps/{id}", new { status = "published", config = new { maxTokens = 500 } }, user.AccessToken);
        var retype = await _client.ApiPutAsync($"/api/v1/apps/{id}", new { type = "chatbot" }, user.AccessToken);
        var list = await _client.ApiGetAsync("/api/v1/apps?status=published&type=workflow", user.AccessToken);

        Assert.Equal("published", published.Data["status"]!.GetValue<string>());
        Assert.Equal(500, published.Data["config"]!["maxTokens"]!.GetValue<int>());
        Assert.Equal("gpt-4o-mini", published.Data["config"]!["model"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, retype.Status);
        Assert.Single(list.Data.AsArray());
    }

    [Fact]
    public async Task Clone_CopiesTheAppAndItsWorkflowAsADraft()
    {
        var user = await _client.RegisterAsync();
        var app = await CreateWorkflowAppAsync(user);

        var clone = await _client.ApiPostAsync($"/api/v1/apps/{app["id"]!.GetValue<string>()}/clone", new { }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, clone.Status);
        Assert.Equal("Support bot (copy)", clone.Data["name"]!.GetValue<string>());
        Assert.NotEqual(app["workflowId"]!.GetValue<string>(), clone.Data["workflowId"]!.GetValue<string>());
        var run = await _client.RunAsync(user, clone.Data["workflowId"]!.GetValue<string>(), new { message = "copy" });
        Assert.Equal("Echo: copy", run["outputs"]!["reply"]!.GetValue<string>());
    }

    [Fact]
    public async Task ExportThenImport_RecreatesTheAppInAnotherWorkspace()
    {
        var owner = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();
        var app = await CreateWorkflowAppAsync(owner);

        var bundle = await _client.ApiGetAsync($"/api/v1/apps/{app["id"]!.GetValue<string>()}/export", owner.AccessToken);
        var imported = await _client.ApiPostAsync("/api/v1/apps/import", bundle.Data.ToJsonString(), other.AccessToken);
        var run = await _client.RunAsync(other, imported.Data["workflowId"]!.GetValue<string>(), new { message = "moved" });

        Assert.Equal("serverless-platform.app", bundle.Data["format"]!.GetValue<string>());
        Assert.Equal(2, bundle.Data["workflow"]!["definition"]!["nodes"]!.AsArray().Count);
        Assert.Equal(HttpStatusCode.Created, imported.Status);
        Assert.Equal("Echo: moved", run["outputs"]!["reply"]!.GetValue<string>());
    }

    [Fact]
    public async Task Import_OfABrokenBundle_Is422()
    {
        var user = await _client.RegisterAsync();

        var wrongFormat = await _client.ApiPostAsync("/api/v1/apps/import", new { format = "zip", formatVersion = 1, exportedAt = DateTimeOffset.UtcNow, app = new { name = "x", type = "chatbot", status = "draft" } }, user.AccessToken);
        var badWorkflow = await _client.ApiPostAsync("/api/v1/apps/import", new JsonObject
        {
            ["format"] = "serverless-platform.app",
            ["formatVersion"] = 1,
            ["exportedAt"] = DateTimeOffset.UtcNow,
            ["app"] = new JsonObject { ["name"] = "x", ["type"] = "workflow", ["status"] = "draft" },
            ["workflow"] = new JsonObject { ["name"] = "w", ["definition"] = Definition([Node("start", "start")], [Edge("start", "nowhere")]) },
        }.ToJsonString(), user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongFormat.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badWorkflow.Status);
        Assert.Empty((await _client.ApiGetAsync("/api/v1/apps", user.AccessToken)).Data.AsArray());
    }

    [Fact]
    public async Task Delete_RemovesTheAppAndItsWorkflow_AndTheWorkflowCannotBeDeletedAlone()
    {
        var user = await _client.RegisterAsync();
        var app = await CreateWorkflowAppAsync(user);
        var id = app["id"]!.GetValue<string>();
        var workflowId = app["workflowId"]!.GetValue<string>();

        var deleteWorkflowAlone = await _client.ApiDeleteAsync($"/api/v1/workflows/{workflowId}", user.AccessToken);
        var deleted = await _client.ApiDeleteAsync($"/api/v1/apps/{id}", user.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, deleteWorkflowAlone.Status);
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/apps/{id}", user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/workflows/{workflowId}", user.AccessToken)).Status);
    }

    [Fact]
    public async Task OtherWorkspacesApps_Are404()
    {
        var owner = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var id = (await CreateWorkflowAppAsync(owner))["id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/apps/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/apps/{id}/export", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync($"/api/v1/apps/{id}/clone", new { }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/apps/{id}", stranger.AccessToken)).Status);
    }
}
