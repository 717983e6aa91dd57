using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Otto;

/// <summary>
/// The gateway's fake upstreams plus a trigger host that runs workflows (for get_recent_runs after a real failed run);
/// small step and history caps so the tests reach them.
/// </summary>
public sealed class OttoFixture : GatewayFixture
{
    public const int MaxSteps = 3;

    public const int HistoryMessages = 6;

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "true",
        ["Workflows:HeartbeatSeconds"] = "1",
        ["Otto:MaxSteps"] = MaxSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Otto:HistoryMessages"] = HistoryMessages.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

public sealed class OttoTests(OttoFixture fixture) : IClassFixture<OttoFixture>
{
    private const string Assist = "/api/v1/otto/assist";

    private readonly HttpClient _client = fixture.Client;

    private JsonObject LastModelRequest() => fixture.Primary.Received.Last(r => r.Path == "/v1/chat/completions").Body!;

    private static string ToolResult(JsonObject modelRequest, int fromEnd = 1) =>
        modelRequest["messages"]!.AsArray().Where(m => m!["role"]!.GetValue<string>() == "tool").Reverse().ElementAt(fromEnd - 1)!["content"]!.GetValue<string>();

    private static string ToolCalls(ApiResponse response) =>
        string.Join(" ", response.Data["toolCalls"]!.AsArray().Select(c => $"{c!["name"]!.GetValue<string>()}:{(c["ok"]!.GetValue<bool>() ? "ok" : "failed")}"));

    [Fact]
    public async Task Otto_AnswersWithListWorkflows_FeedingTheModelOnlyTheCallersWorkflows()
    {
        var user = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var mine = await _client.CreateWorkflowAsync(user, Line(new { x = "{{inputs.x}}" }), "Invoice sync");
        await _client.CreateWorkflowAsync(stranger, Line(new { x = "{{inputs.x}}" }), "Stranger payroll");
        fixture.Primary.EnqueueToolCalls(("list_workflows", new { }));
        fixture.Primary.EnqueueReply("You have one workflow: Invoice sync.");

        var response = await _client.ApiPostAsync(Assist, new { message = "Which workflows do I have?" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("You have one workflow: Invoice sync.", response.Data["message"]!.GetValue<string>());
        Assert.StartsWith("ses", response.Data["sessionId"]!.GetValue<string>());
        Assert.Null(response.Data["proposal"]);
        Assert.Equal("list_workflows:ok", ToolCalls(response));
        var request = LastModelRequest();
        var listed = ToolResult(request);
        Assert.Contains(mine, listed);
        Assert.Contains("Invoice sync", listed);
        Assert.DoesNotContain("Stranger payroll", listed);
        Assert.Equal(["get_recent_runs", "get_workflow", "list_blocks", "list_workflows", "propose_workflow"],
            request["tools"]!.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Otto_WithAContextWorkflow_SummarisesItForTheModel_AndGetWorkflowDefaultsToIt()
    {
        var user = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user,
            Line(new { t = "{{greet.text}}" }, Node("greet", "template", new { template = "Hi {{inputs.name}}" })), "Greeter");
        var theirs = await _client.CreateWorkflowAsync(stranger, Line(new { x = "{{inputs.x}}" }), "Theirs");
        fixture.Primary.EnqueueToolCalls(("get_workflow", new { }), ("get_workflow", new { workflow_id = theirs }));
        fixture.Primary.EnqueueReply("It greets.");

        var response = await _client.ApiPostAsync(Assist, new { message = "What does this do?", context = new { workflowId = workflow } }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("get_workflow:ok get_workflow:failed", ToolCalls(response));
        var request = LastModelRequest();
        var system = request["messages"]![0]!["content"]!.GetValue<string>();
        Assert.Contains(workflow, system);
        Assert.Contains("\"Greeter\"", system);
        Assert.Contains("greet (template)", system);
        Assert.Contains("start->greet", system);
        Assert.Contains("It has not run yet.", system);
        Assert.Contains("Hi {{inputs.name}}", ToolResult(request, 2));
        Assert.Contains("No workflow has the id", ToolResult(request, 1));
        Assert.DoesNotContain("Theirs", request.ToJsonString());
    }

    [Fact]
    public async Task Otto_UnknownOrForeignContextWorkflow_Is404_BeforeAnyModelCall()
    {
        var user = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var theirs = await _client.CreateWorkflowAsync(stranger, Line(new { x = "{{inputs.x}}" }), "Theirs");
        var calls = fixture.Primary.Received.Count;

        var unknown = await _client.ApiPostAsync(Assist, new { message = "hi", context = new { workflowId = "wf_missing" } }, user.AccessToken);
        var foreign = await _client.ApiPostAsync(Assist, new { message = "hi", context = new { workflowId = theirs } }, user.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal("NOT_FOUND", unknown.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, foreign.Status);
        Assert.Equal(calls, fixture.Primary.Received.Count);
    }

    [Fact]
    public async Task Otto_ListBlocks_NarrowsBySearchOrTypes_AndListsEveryBlockWithout()
    {
        var user = await _client.RegisterAsync();
        fixture.Primary.EnqueueToolCalls(("list_blocks", new { }), ("list_blocks", new { search = "HTTP" }), ("list_blocks", new { types = new[] { "template", "set" } }));
        fixture.Primary.EnqueueReply("Done.");

        var response = await _client.ApiPostAsync(Assist, new { message = "Which blocks can call an API?" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var request = LastModelRequest();
        static List<string> Types(string result) => JsonNode.Parse(result)!["blocks"]!.AsArray().Select(b => b!["type"]!.GetValue<string>()).ToList();
        var all = Types(ToolResult(request, 3));
        var searched = Types(ToolResult(request, 2));
        var named = Types(ToolResult(request, 1));
        Assert.Contains("http_request", all);
        Assert.Contains("template", all);
        Assert.Contains("http_request", searched);
        Assert.DoesNotContain("template", searched);
        Assert.True(searched.Count < all.Count);
        Assert.Equal(["set", "template"], named.Order(StringComparer.Ordinal));
        Assert.Equal(all.Count, JsonNode.Parse(ToolResult(request, 1))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Otto_InvalidProposal_GetsTheErrorsBack_ThenTheFixedOneIsReturned_AndCreateWorkflowAcceptsItVerbatim()
    {
        var user = await _client.RegisterAsync();
        var broken = Definition([Node("start", "start"), Node("x", "no_such_block")], [Edge("start", "x"), Edge("x", "ghost")]);
        var valid = Line(new { total = "{{s.total}}" }, Node("s", "set", new { values = new { total = 5 } }));
        fixture.Primary.EnqueueToolCalls(("list_blocks", new { }), ("propose_workflow", new { name = "Totals", description = "Sets a total", graph = broken }));
        fixture.Primary.EnqueueToolCalls(("propose_workflow", new { name = "Totals", description = "Sets a total", graph = valid }));
        fixture.Primary.EnqueueReply("Here is a workflow that sets a total.");

        var response = await _client.ApiPostAsync(Assist, new { message = "Build me a workflow that outputs a total" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("list_blocks:ok propose_workflow:failed propose_workflow:ok", ToolCalls(response));
        var request = LastModelRequest();
        Assert.Contains("\"set\"", ToolResult(request, 3));
        var rejection = JsonNode.Parse(ToolResult(request, 2))!;
        Assert.False(rejection["ok"]!.GetValue<bool>());
        Assert.NotEmpty(rejection["errors"]!.AsArray());
        Assert.Contains("no_such_block", rejection.ToJsonString());
        var proposal = response.Data["proposal"]!;
        Assert.True(proposal["valid"]!.GetValue<bool>());
        Assert.Equal("Totals", proposal["name"]!.GetValue<string>());
        // Nothing is saved by Otto.
        Assert.Empty((await _client.ApiGetAsync("/api/v1/workflows", user.AccessToken)).Data.AsArray());

        var saved = await _client.ApiPostAsync("/api/v1/workflows",
            new JsonObject { ["name"] = proposal["name"]!.DeepClone(), ["description"] = proposal["description"]!.DeepClone(), ["definition"] = proposal["graph"]!.DeepClone() }.ToJsonString(),
            user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, saved.Status);
        Assert.Equal(["start", "s", "end"], saved.Data["definition"]!["nodes"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()));
        var run = await _client.RunAsync(user, saved.Data["id"]!.GetValue<string>());
        Assert.Equal(5, run["outputs"]!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Otto_Session_KeepsHistoryForItsUser_AndIsNotFoundForAnotherUserOrWorkspace()
    {
        var owner = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();
        var shared = (await _client.ApiPostAsync("/api/v1/workspaces", new { name = "team" }, owner.AccessToken)).Data["id"]!.GetValue<string>();
        await _client.ApiPostAsync($"/api/v1/workspaces/{shared}/members", new { userId = other.Id, role = "member" }, owner.AccessToken);
        var inShared = new Dictionary<string, string> { ["X-Workspace-Id"] = shared };
        fixture.Primary.EnqueueReply("Noted.");
        var first = await _client.ApiPostAsync(Assist, new { message = "My favourite block is the delay" }, owner.AccessToken, inShared);
        var sessionId = first.Data["sessionId"]!.GetValue<string>();

        fixture.Primary.EnqueueReply("The delay.");
        var second = await _client.ApiPostAsync(Assist, new { message = "Which block do I like?", sessionId }, owner.AccessToken, inShared);
        var sent = LastModelRequest()["messages"]!.ToJsonString();
        var otherUser = await _client.ApiPostAsync(Assist, new { message = "hi", sessionId }, other.AccessToken, inShared);
        var otherWorkspace = await _client.ApiPostAsync(Assist, new { message = "hi", sessionId }, owner.AccessToken);
        var madeUp = await _client.ApiPostAsync(Assist, new { message = "hi", sessionId = "ses_made_up" }, owner.AccessToken);
        var taskAssistant = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "hi", sessionId, model = "solo" }, other.AccessToken, inShared);

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(sessionId, second.Data["sessionId"]!.GetValue<string>());
        Assert.Contains("My favourite block is the delay", sent);
        Assert.Contains("Noted.", sent);
        Assert.Equal(HttpStatusCode.NotFound, otherUser.Status);
        Assert.Equal(HttpStatusCode.NotFound, otherWorkspace.Status);
        Assert.Equal(HttpStatusCode.NotFound, madeUp.Status);
        // The task assistant keeps its own sessions: Otto's id is a new one there, not the owner's history.
        Assert.Equal(HttpStatusCode.OK, taskAssistant.Status);
        Assert.DoesNotContain("My favourite block", LastModelRequest()["messages"]!.ToJsonString());
    }

    [Fact]
    public async Task Otto_Session_KeepsOnlyTheLastMessages_AndAModelStillCallingToolsAtTheStepCapStops()
    {
        var user = await _client.RegisterAsync();
        string? sessionId = null;
        // Each turn adds the user's message and the answer: after four turns the first no longer fits in six messages.
        for (var turn = 1; turn <= 4; turn++)
        {
            fixture.Primary.EnqueueReply($"answer {turn}");
            var response = await _client.ApiPostAsync(Assist, new { message = $"question number {turn}", sessionId }, user.AccessToken);
            Assert.Equal(HttpStatusCode.OK, response.Status);
            sessionId = response.Data["sessionId"]!.GetValue<string>();
        }

        for (var step = 0; step < OttoFixture.MaxSteps; step++)
        {
            fixture.Primary.EnqueueToolCalls(("list_workflows", new { }));
        }

        var capped = await _client.ApiPostAsync(Assist, new { message = "keep looking", sessionId }, user.AccessToken);

        var sent = LastModelRequest()["messages"]!.ToJsonString();
        Assert.DoesNotContain("question number 1", sent);
        Assert.Contains("question number 3", sent);
        Assert.Equal(HttpStatusCode.OK, capped.Status);
        Assert.Equal(string.Join(" ", Enumerable.Repeat("list_workflows:ok", OttoFixture.MaxSteps)), ToolCalls(capped));
        Assert.Contains("more steps", capped.Data["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Otto_GetRecentRuns_AfterAFailedRun_ReportsItsErrorAndFailedNode()
    {
        var user = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { r = "{{c}}" },
            Node("c", "code", new { language = "javascript", code = "throw new Error('customer id is missing');" })), "Importer");
        var run = await _client.RunAsync(user, workflow);
        var ended = await _client.WaitForAsync(user, run["executionId"]!.GetValue<string>());
        Assert.Equal("failed", ended["status"]!.GetValue<string>());
        fixture.Primary.EnqueueToolCalls(("get_recent_runs", new { workflow_id = workflow, limit = 3 }));
        fixture.Primary.EnqueueReply("The code node threw: customer id is missing.");

        var response = await _client.ApiPostAsync(Assist, new { message = "Why did my workflow fail?", context = new { workflowId = workflow } }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("get_recent_runs:ok", ToolCalls(response));
        var request = LastModelRequest();
        Assert.Contains("failed", request["messages"]![0]!["content"]!.GetValue<string>());
        var runs = JsonNode.Parse(ToolResult(request))!["runs"]!.AsArray();
        var latest = Assert.Single(runs)!;
        Assert.Equal(run["executionId"]!.GetValue<string>(), latest["id"]!.GetValue<string>());
        Assert.Equal("failed", latest["status"]!.GetValue<string>());
        var failedNode = Assert.Single(latest["failedNodes"]!.AsArray())!;
        Assert.Equal("c", failedNode["id"]!.GetValue<string>());
        Assert.Contains("customer id is missing", failedNode["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Otto_ModelCall_IsRecordedInUsage_UnderTheCallersApiKey_AsOtto()
    {
        var user = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "otto", scopes = new[] { "workflows:read", "models:use" } }, user.AccessToken);
        var key = created.Data["key"]!.GetValue<string>();
        var readOnly = await _client.CreateKeyAsync(user, ["workflows:read"]);
        fixture.Primary.EnqueueReply("Hello from Otto.");

        var response = await _client.ApiPostAsync(Assist, new { message = "hello" }, null, Users.ApiKey(key));
        var refused = await _client.ApiPostAsync(Assist, new { message = "hello" }, null, Users.ApiKey(readOnly));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        var row = Assert.Single(await _client.WaitForUsageAsync(user.AccessToken));
        Assert.Equal("otto", row["source"]!.GetValue<string>());
        Assert.Equal(created.Data["id"]!.GetValue<string>(), row["apiKeyId"]!.GetValue<string>());
        Assert.Equal(user.Id, row["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Otto_KeyLimits_AreTheGatewaysAnswers_429ForTheRateAnd402ForTheBudget()
    {
        var user = await _client.RegisterAsync();
        var scopes = new[] { "workflows:read", "models:use" };
        var perMinute = (await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "rate", scopes, modelRequestsPerMinute = 1 }, user.AccessToken)).Data["key"]!.GetValue<string>();
        var budget = (await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "budget", scopes, monthlyBudgetUsd = 0.01m }, user.AccessToken)).Data["key"]!.GetValue<string>();
        fixture.Primary.EnqueueReply("first");
        var allowed = await _client.ApiPostAsync(Assist, new { message = "hi" }, null, Users.ApiKey(perMinute));
        var limited = await _client.ApiPostAsync(Assist, new { message = "hi" }, null, Users.ApiKey(perMinute));
        fixture.Primary.EnqueueReply("spends the budget");
        var spent = await _client.ApiPostAsync(Assist, new { message = "hi" }, null, Users.ApiKey(budget));
        var overBudget = await _client.ApiPostAsync(Assist, new { message = "hi" }, null, Users.ApiKey(budget));

        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.Equal("QUOTA_EXCEEDED", limited.ErrorCode);
        Assert.NotNull(limited.Header("Retry-After"));
        Assert.Equal(HttpStatusCode.OK, spent.Status);
        Assert.Equal(HttpStatusCode.PaymentRequired, overBudget.Status);
        Assert.Equal("QUOTA_EXCEEDED", overBudget.ErrorCode);
    }

    [Fact]
    public async Task Otto_BadInput_Is422_AndAFailingProvider_Is502()
    {
        var user = await _client.RegisterAsync();

        var noMessage = await _client.ApiPostAsync(Assist, new { }, user.AccessToken);
        var tooLong = await _client.ApiPostAsync(Assist, new { message = new string('a', 10_001) }, user.AccessToken);
        var badSession = await _client.ApiPostAsync(Assist, new { message = "hi", sessionId = "bad id!" }, user.AccessToken);
        ApiResponse failed;
        using (fixture.FailEveryUpstream())
        {
            failed = await _client.ApiPostAsync(Assist, new { message = "hi" }, user.AccessToken);
        }

        Assert.Equal(HttpStatusCode.UnprocessableEntity, noMessage.Status);
        Assert.Equal("VALIDATION_ERROR", noMessage.ErrorCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooLong.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badSession.Status);
        Assert.Equal("sessionId", badSession.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal("AI_SERVICE_ERROR", failed.ErrorCode);
    }

    [Fact]
    public async Task Otto_WhenTheModelTimesOut_Is504_AndTheSessionGoesOnAfterwards()
    {
        var user = await _client.RegisterAsync();
        fixture.Primary.EnqueueReply("Hello, how can I help?");
        var first = await _client.ApiPostAsync(Assist, new { message = "Hi" }, user.AccessToken);
        var session = first.Data["sessionId"]!.GetValue<string>();

        // Every attempt the gateway makes (each provider of the model, and their retries) outlasts the request timeout.
        FakeBehavior hang = async (context, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return true;
        };
        ApiResponse timedOut;
        (fixture.Primary.Always, fixture.Secondary.Always) = (hang, hang);
        try
        {
            timedOut = await _client.ApiPostAsync(Assist, new { message = "Still there?", sessionId = session }, user.AccessToken);
        }
        finally
        {
            (fixture.Primary.Always, fixture.Secondary.Always) = (null, null);
        }

        fixture.Primary.EnqueueReply("Yes, still here.");
        var after = await _client.ApiPostAsync(Assist, new { message = "And now?", sessionId = session }, user.AccessToken);

        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.Status);
        Assert.False(string.IsNullOrEmpty(timedOut.ErrorCode));
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.Equal(session, after.Data["sessionId"]!.GetValue<string>());
        Assert.Equal("Yes, still here.", after.Data["message"]!.GetValue<string>());
        // The session kept the exchange from before the timeout and fed it to the model.
        var contents = LastModelRequest()["messages"]!.AsArray().Select(m => m!["content"]?.GetValue<string>()).ToList();
        Assert.Contains("Hi", contents);
        Assert.Contains("Hello, how can I help?", contents);
        Assert.Contains("And now?", contents);
    }
}

/// <summary>Otto on an install without any model provider.</summary>
public sealed class OttoWithoutModelsTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    [Fact]
    public async Task Otto_WithNoModelAvailable_Is422_SayingHowToAddOne()
    {
        var client = factory.CreateClient();
        var user = await client.RegisterAsync();

        var response = await client.ApiPostAsync("/api/v1/otto/assist", new { message = "hi" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("model", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Contains("Otto needs a model", response.Body!["error"]!["details"]![0]!["message"]!.GetValue<string>());
    }

}
