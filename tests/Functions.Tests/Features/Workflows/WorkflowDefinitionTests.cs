using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

public sealed class WorkflowDefinitionTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<ApiResponse> CreateAsync(TestUser user, JsonObject definition) =>
        await _client.ApiPostAsync("/api/v1/workflows", new JsonObject { ["name"] = "x", ["definition"] = definition }.ToJsonString(), user.AccessToken);

    private static IReadOnlyList<(string Field, string Message)> Details(ApiResponse response) =>
        [.. response.Body!["error"]!["details"]!.AsArray().Select(d => (d!["field"]!.GetValue<string>(), d["message"]!.GetValue<string>()))];

    [Fact]
    public async Task Create_ReturnsVersion1_AndGetReturnsTheDefinition()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { x = 1 }));

        var workflow = await _client.ApiGetAsync($"/api/v1/workflows/{id}", user.AccessToken);

        Assert.Equal(1, workflow.Data["version"]!.GetValue<int>());
        Assert.Equal("ACTIVE", workflow.Data["status"]!.GetValue<string>());
        Assert.Equal(2, workflow.Data["definition"]!["nodes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Create_WithoutDefinition_GetsStartToEnd()
    {
        var user = await _client.RegisterAsync();

        var created = await _client.ApiPostAsync("/api/v1/workflows", new { name = "empty" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(["start", "end"], created.Data["definition"]!["nodes"]!.AsArray().Select(n => n!["type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Create_EmptyDraft_IsStored_AndRunningItIs422WithTheProblems()
    {
        var user = await _client.RegisterAsync();

        var created = await _client.ApiPostAsync("/api/v1/workflows", new { name = "draft", definition = new { nodes = Array.Empty<object>(), edges = Array.Empty<object>() } }, user.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();
        var run = await _client.ApiPostAsync($"/api/v1/workflows/{id}/run", new { inputs = new { } }, user.AccessToken);
        var execute = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { }, user.AccessToken);
        var parent = await _client.CreateWorkflowAsync(user, Line(new { }, Node("sub", "sub_workflow", new { workflowId = id })));
        var asChild = await _client.WaitForAsync(user, await _client.ExecuteAsync(user, parent));
        var filled = await _client.ApiPutAsync($"/api/v1/workflows/{id}", new JsonObject { ["definition"] = Line(new { x = 1 }) }.ToJsonString(), user.AccessToken);
        var runsNow = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Empty(created.Data["definition"]!["nodes"]!.AsArray());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, run.Status);
        Assert.Contains(Details(run), d => d.Field == "definition.nodes" && d.Message.Contains("start"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, execute.Status);
        Assert.Equal("failed", asChild["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, filled.Status);
        Assert.Equal(HttpStatusCode.Accepted, runsNow.Status);
    }

    [Fact]
    public async Task EmptyDraft_AskedToBeActive_Is422_OtherStatusesAreStored()
    {
        var user = await _client.RegisterAsync();
        var empty = new { nodes = Array.Empty<object>(), edges = Array.Empty<object>() };

        var activeAtOnce = await _client.ApiPostAsync("/api/v1/workflows", new { name = "draft", status = "ACTIVE", definition = empty }, user.AccessToken);
        var paused = await _client.ApiPostAsync("/api/v1/workflows", new { name = "draft", status = "PAUSED", definition = empty }, user.AccessToken);
        var id = paused.Data["id"]!.GetValue<string>();
        var activated = await _client.ApiPutAsync($"/api/v1/workflows/{id}", """{"status":"ACTIVE"}""", user.AccessToken);
        var afterwards = await _client.ApiGetAsync($"/api/v1/workflows/{id}", user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, activeAtOnce.Status);
        Assert.Contains(Details(activeAtOnce), d => d.Field == "definition.nodes");
        Assert.Equal(HttpStatusCode.Created, paused.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, activated.Status);
        Assert.Equal("PAUSED", afterwards.Data["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task InvalidDefinitions_Are422WithNodeLevelDetails()
    {
        var user = await _client.RegisterAsync();

        var unknownType = await CreateAsync(user, Line(new { }, Node("a", "teleport")));
        var missingConfig = await CreateAsync(user, Line(new { }, Node("a", "template")));
        var dangling = await CreateAsync(user, Definition([Node("start", "start")], [Edge("start", "ghost")]));
        var unreachable = await CreateAsync(user, Definition([Node("start", "start"), Node("end", "end"), Node("island", "set", new { values = new { } })], [Edge("start", "end")]));
        var cycle = await CreateAsync(user, Definition(
            [Node("start", "start"), Node("a", "set", new { values = new { } }), Node("b", "set", new { values = new { } })],
            [Edge("start", "a"), Edge("a", "b"), Edge("b", "a")]));
        var twoStarts = await CreateAsync(user, Definition([Node("s1", "start"), Node("s2", "start")], []));
        var badHandle = await CreateAsync(user, Definition(
            [Node("start", "start"), Node("c", "condition", new { conditions = new[] { new { left = 1, @operator = "eq", right = 1 } } }), Node("end", "end")],
            [Edge("start", "c"), Edge("c", "end", "maybe")]));
        var badReference = await CreateAsync(user, Line(new { v = "{{nobody.text}}" }));

        Assert.All(new[] { unknownType, missingConfig, dangling, unreachable, cycle, twoStarts, badHandle, badReference },
            r => Assert.Equal(HttpStatusCode.UnprocessableEntity, r.Status));
        Assert.Contains(Details(unknownType), d => d.Field == "definition.nodes[1].type" && d.Message.Contains("teleport"));
        Assert.Contains(Details(missingConfig), d => d.Field == "definition.nodes[1].config.template" && d.Message.StartsWith("Node a"));
        Assert.Contains(Details(dangling), d => d.Field == "definition.edges[0].target");
        Assert.Contains(Details(unreachable), d => d.Message.Contains("island") && d.Message.Contains("reached"));
        Assert.Contains(Details(cycle), d => d.Message.Contains("cycle"));
        Assert.Contains(Details(twoStarts), d => d.Message.Contains("exactly one start"));
        Assert.Contains(Details(badHandle), d => d.Field == "definition.edges[1].sourceHandle");
        Assert.Contains(Details(badReference), d => d.Message.Contains("nobody"));
    }

    [Fact]
    public async Task Update_Definition_MakesANewVersion_AndOldVersionsStayRunnable()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { answer = "one" }));

        var updated = await _client.ApiPutAsync($"/api/v1/workflows/{id}", new JsonObject { ["definition"] = Line(new { answer = "two" }) }.ToJsonString(), user.AccessToken);
        var versions = await _client.ApiGetAsync($"/api/v1/workflows/{id}/versions", user.AccessToken);
        var current = await _client.RunAsync(user, id);
        var pinned = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { version = 1 }, user.AccessToken);
        var pinnedRun = await _client.WaitForAsync(user, pinned.Data["executionId"]!.GetValue<string>());

        Assert.Equal(2, updated.Data["version"]!.GetValue<int>());
        Assert.Equal([2, 1], versions.Data.AsArray().Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal("two", current["outputs"]!["answer"]!.GetValue<string>());
        Assert.Equal(1, pinnedRun["version"]!.GetValue<int>());
        Assert.Equal("one", pinnedRun["outputs"]!["answer"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_NameOnly_KeepsTheVersion()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }));

        var updated = await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { name = "renamed", description = "d" }, user.AccessToken);

        Assert.Equal("renamed", updated.Data["name"]!.GetValue<string>());
        Assert.Equal(1, updated.Data["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task Lifecycle_PausedCannotRun_ArchivedIsHiddenAndReadOnly()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }));

        await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { status = "PAUSED" }, user.AccessToken);
        var pausedRun = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { }, user.AccessToken);
        await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { status = "ARCHIVED" }, user.AccessToken);
        var defaultList = await _client.ApiGetAsync("/api/v1/workflows", user.AccessToken);
        var archivedList = await _client.ApiGetAsync("/api/v1/workflows?status=ARCHIVED", user.AccessToken);
        var edit = await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { name = "nope" }, user.AccessToken);
        var reactivate = await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { status = "ACTIVE" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, pausedRun.Status);
        Assert.DoesNotContain(defaultList.Data.AsArray(), w => w!["id"]!.GetValue<string>() == id);
        Assert.Contains(archivedList.Data.AsArray(), w => w!["id"]!.GetValue<string>() == id);
        Assert.Equal(HttpStatusCode.Conflict, edit.Status);
        Assert.Equal(HttpStatusCode.OK, reactivate.Status);
    }

    [Fact]
    public async Task List_SearchesSortsAndPages()
    {
        var user = await _client.RegisterAsync();
        foreach (var name in new[] { "alpha report", "beta", "alpha mail" })
        {
            await _client.ApiPostAsync("/api/v1/workflows", new { name }, user.AccessToken);
        }

        var searched = await _client.ApiGetAsync("/api/v1/workflows?search=alpha&sortBy=name&sortOrder=asc", user.AccessToken);
        var paged = await _client.ApiGetAsync("/api/v1/workflows?page=2&limit=2&sortBy=name", user.AccessToken);

        Assert.Equal(["alpha mail", "alpha report"], searched.Data.AsArray().Select(w => w!["name"]!.GetValue<string>()));
        Assert.Equal(3, paged.Body!["meta"]!["total"]!.GetValue<int>());
        Assert.Single(paged.Data.AsArray());
    }

    [Fact]
    public async Task Delete_RemovesTheWorkflow()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }));

        var deleted = await _client.ApiDeleteAsync($"/api/v1/workflows/{id}", user.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/workflows/{id}", user.AccessToken)).Status);
    }

    [Fact]
    public async Task InputsSchema_RejectsRunsWithMissingOrMistypedInputs()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }), inputsSchema: new
        {
            type = "object",
            required = new[] { "city" },
            properties = new { city = new { type = "string" }, days = new { type = "integer" } },
        });

        var missing = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { input = new { days = 2 } }, user.AccessToken);
        var mistyped = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { input = new { city = "Oslo", days = "two" } }, user.AccessToken);
        var fine = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { input = new { city = "Oslo", days = 2 } }, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.Status);
        Assert.Equal("inputs.city", Details(missing)[0].Field);
        Assert.Equal("inputs.days", Details(mistyped)[0].Field);
        Assert.Equal(HttpStatusCode.Accepted, fine.Status);
    }

    [Fact]
    public async Task Blocks_PublishEveryBuiltInTypeWithSchemas()
    {
        var user = await _client.RegisterAsync();

        var blocks = await _client.ApiGetAsync("/api/v1/blocks", user.AccessToken);

        var types = blocks.Data.AsArray().Select(b => b!["type"]!.GetValue<string>()).ToList();
        foreach (var type in new[] { "start", "end", "template", "set", "condition", "merge", "loop", "sub_workflow", "delay", "human_review", "http_request", "code" })
        {
            Assert.Contains(type, types);
        }

        var condition = blocks.Data.AsArray().First(b => b!["type"]!.GetValue<string>() == "condition")!;
        Assert.Equal(["true", "false"], condition["branches"]!.AsArray().Select(b => b!.GetValue<string>()));
        Assert.NotNull(condition["configSchema"]!["properties"]!["retry"]);
        Assert.Equal("conditions", condition["configSchema"]!["required"]![0]!.GetValue<string>());
    }
}
