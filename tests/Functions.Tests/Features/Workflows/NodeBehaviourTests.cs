using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

public sealed class NodeBehaviourTests(WorkflowFactory factory) : WorkflowTestBase(factory), IClassFixture<WorkflowFactory>
{
    private async Task<JsonNode> RunAsync(JsonObject definition, object? inputs = null) =>
        await Client.RunAsync(User, await Client.CreateWorkflowAsync(User, definition), inputs);

    [Fact]
    public async Task HttpRequest_SendsTheAttemptsIdempotencyKey_UnlessTheNodeSetsOne()
    {
        var run = await RunAsync(Line(new { mine = "{{own.body.key}}", given = "{{call.body.key}}" },
            Node("call", "http_request", new { url = $"{Upstream.BaseUrl}/idempotency" }),
            Node("own", "http_request", new { url = $"{Upstream.BaseUrl}/idempotency", headers = new Dictionary<string, string> { ["Idempotency-Key"] = "k-1" } })));

        var id = run["executionId"]!.GetValue<string>();
        Assert.Equal($"{id}:call:0:1", run["outputs"]!["given"]!.GetValue<string>());
        Assert.Equal("k-1", run["outputs"]!["mine"]!.GetValue<string>());
    }

    [Fact]
    public async Task StartTemplateSetEnd_ResolveReferencesKeepingTypes()
    {
        var run = await RunAsync(
            Line(new { greeting = "{{t.text}}", count = "{{inputs.count}}", first = "{{inputs.items[0].name}}", whole = "{{s}}", mixed = "n={{inputs.count}}" },
                Node("t", "template", new { template = "Hi {{inputs.name}}, {{inputs.count}} items" }),
                Node("s", "set", new { values = new { doubled = "{{inputs.items}}", flag = true } })),
            new { name = "Ada", count = 3, items = new[] { new { name = "a" }, new { name = "b" } } });

        var outputs = run["outputs"]!;
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal("Hi Ada, 3 items", outputs["greeting"]!.GetValue<string>());
        Assert.Equal(3, outputs["count"]!.GetValue<int>());
        Assert.Equal("a", outputs["first"]!.GetValue<string>());
        Assert.Equal(2, outputs["whole"]!["doubled"]!.AsArray().Count);
        Assert.True(outputs["whole"]!["flag"]!.GetValue<bool>());
        Assert.Equal("n=3", outputs["mixed"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("eq", 5, 5, true)]
    [InlineData("ne", 5, 5, false)]
    [InlineData("gt", 6, 5, true)]
    [InlineData("gte", 5, 5, true)]
    [InlineData("lt", 4, 5, true)]
    [InlineData("lte", 6, 5, false)]
    [InlineData("contains", "hello world", "world", true)]
    [InlineData("not_contains", "hello world", "world", false)]
    [InlineData("empty", "", null, true)]
    [InlineData("not_empty", "x", null, true)]
    [InlineData("regex", "order-123", "^order-\\d+$", true)]
    public async Task Condition_EachOperator_TakesTheRightBranch(string op, object left, object? right, bool expected)
    {
        var definition = Definition(
            [
                Node("start", "start"),
                Node("check", "condition", new { conditions = new[] { new { left = "{{inputs.left}}", @operator = op, right = "{{inputs.right}}" } } }),
                Node("yes", "set", new { values = new { branch = "true" } }),
                Node("no", "set", new { values = new { branch = "false" } }),
                Node("join", "merge"),
                Node("end", "end", new { outputs = new { branch = "{{join.merged.branch}}" } }),
            ],
            [Edge("start", "check"), Edge("check", "yes", "true"), Edge("check", "no", "false"), Edge("yes", "join"), Edge("no", "join"), Edge("join", "end")]);

        var run = await RunAsync(definition, new { left, right });

        Assert.Equal(expected ? "true" : "false", run["outputs"]!["branch"]!.GetValue<string>());
    }

    [Fact]
    public async Task Condition_OrLogic_AndSkippedBranchesAreMarkedSkipped()
    {
        var definition = Definition(
            [
                Node("start", "start"),
                Node("check", "condition", new { logic = "or", conditions = new object[] { new { left = 1, @operator = "eq", right = 2 }, new { left = "a", @operator = "eq", right = "a" } } }),
                Node("yes", "set", new { values = new { v = 1 } }),
                Node("no", "set", new { values = new { v = 2 } }),
                Node("end", "end", new { outputs = new { v = "{{yes.v}}" } }),
            ],
            [Edge("start", "check"), Edge("check", "yes", "true"), Edge("check", "no", "false"), Edge("yes", "end"), Edge("no", "end")]);

        var run = await RunAsync(definition);
        var detail = await Client.GetExecutionAsync(User, run["executionId"]!.GetValue<string>());

        Assert.Equal(1, run["outputs"]!["v"]!.GetValue<int>());
        Assert.Equal("skipped", NodeOf(detail, "no")["status"]!.GetValue<string>());
        Assert.Equal("true", NodeOf(detail, "check")["branch"]!.GetValue<string>());
    }

    [Fact]
    public async Task FanOutFanIn_MergeWaitsForEveryBranch()
    {
        var branches = Enumerable.Range(0, 10).Select(i => Node($"b{i}", "set", new { values = new Dictionary<string, object> { [$"k{i}"] = i } })).ToList();
        var definition = Definition(
            [Node("start", "start"), .. branches, Node("join", "merge"), Node("end", "end", new { outputs = new { all = "{{join.merged}}" } })],
            [.. branches.Select(b => Edge("start", b["id"]!.GetValue<string>())), .. branches.Select(b => Edge(b["id"]!.GetValue<string>(), "join")), Edge("join", "end")]);

        var run = await RunAsync(definition);

        Assert.Equal(10, run["outputs"]!["all"]!.AsObject().Count);
        Assert.Equal(9, run["outputs"]!["all"]!["k9"]!.GetValue<int>());
    }

    [Fact]
    public async Task HttpRequest_CallsTheUrlAndParsesJson()
    {
        var run = await RunAsync(Line(new { status = "{{call.status}}", body = "{{call.body}}" },
            Node("call", "http_request", new { method = "POST", url = Upstream.BaseUrl + "/echo", headers = new Dictionary<string, string> { ["X-Test"] = "yes" }, body = new { n = "{{inputs.n}}" } })),
            new { n = 42 });

        Assert.Equal(200, run["outputs"]!["status"]!.GetValue<int>());
        Assert.Equal("yes", run["outputs"]!["body"]!["header"]!.GetValue<string>());
        Assert.Equal("{\"n\":42}", run["outputs"]!["body"]!["received"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retry_WithBackoff_SucceedsAfterTransientFailures()
    {
        var key = Guid.NewGuid().ToString("N");
        var started = DateTime.UtcNow;
        var run = await RunAsync(Line(new { ok = "{{call.body.ok}}" },
            Node("call", "http_request", new { url = $"{Upstream.BaseUrl}/flaky/{key}?failures=2", retry = new { maxAttempts = 3, backoffSeconds = 0.2 } })));
        var detail = await Client.GetExecutionAsync(User, run["executionId"]!.GetValue<string>());

        Assert.True(run["outputs"]!["ok"]!.GetValue<bool>());
        Assert.Equal(3, NodeOf(detail, "call")["attempts"]!.GetValue<int>());
        Assert.Equal(3, Upstream.Calls("/flaky/" + key));
        // Backoff 0.2 s then 0.4 s.
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(550));
    }

    [Fact]
    public async Task Retry_Exhausted_FailsTheRunWithTheNodesError()
    {
        var key = Guid.NewGuid().ToString("N");
        var id = await Client.CreateWorkflowAsync(User, Line(new { },
            Node("call", "http_request", new { url = $"{Upstream.BaseUrl}/flaky/{key}?failures=10", retry = new { maxAttempts = 2, backoffSeconds = 0 } })));

        var run = await Client.WaitForAsync(User, await Client.ExecuteAsync(User, id));

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("HTTP_ERROR", run["error"]!["code"]!.GetValue<string>());
        Assert.Equal("call", run["error"]!["nodeId"]!.GetValue<string>());
        Assert.Equal(2, NodeOf(run, "call")["attempts"]!.GetValue<int>());
        Assert.Equal(2, Upstream.Calls("/flaky/" + key));
    }

    [Fact]
    public async Task Timeout_StopsASlowNode()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { },
            Node("call", "http_request", new { url = Upstream.BaseUrl + "/slow?ms=5000", timeoutSeconds = 0.5 })));

        var run = await Client.WaitForAsync(User, await Client.ExecuteAsync(User, id));

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("NODE_TIMEOUT", run["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ErrorStrategy_Default_UsesTheDefaultOutput()
    {
        var run = await RunAsync(Line(new { value = "{{call.fallback}}" },
            Node("call", "http_request", new { url = Upstream.BaseUrl + "/status/404", onError = "default", defaultOutput = new { fallback = "used" } })));
        var detail = await Client.GetExecutionAsync(User, run["executionId"]!.GetValue<string>());

        Assert.Equal("used", run["outputs"]!["value"]!.GetValue<string>());
        Assert.True(NodeOf(detail, "call")["usedDefault"]!.GetValue<bool>());
        Assert.Equal("HTTP_ERROR", NodeOf(detail, "call")["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ErrorStrategy_Branch_FollowsTheErrorEdge()
    {
        var definition = Definition(
            [
                Node("start", "start"),
                Node("call", "http_request", new { url = Upstream.BaseUrl + "/status/500", onError = "branch" }),
                Node("happy", "set", new { values = new { path = "happy" } }),
                Node("sad", "set", new { values = new { path = "sad", code = "{{call.error.code}}" } }),
                Node("end", "end", new { outputs = new { happy = "{{happy.path}}", sad = "{{sad.path}}", code = "{{sad.code}}" } }),
            ],
            [Edge("start", "call"), Edge("call", "happy"), Edge("call", "sad", "error"), Edge("happy", "end"), Edge("sad", "end")]);

        var run = await RunAsync(definition);

        Assert.Equal("sad", run["outputs"]!["sad"]!.GetValue<string>());
        Assert.Null(run["outputs"]!["happy"]);
        Assert.Equal("HTTP_ERROR", run["outputs"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delay_WaitsDurablyThenContinues()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { waited = "{{pause.waitedSeconds}}" }, Node("pause", "delay", new { seconds = 1 })));
        var started = DateTime.UtcNow;

        var executionId = await Client.ExecuteAsync(User, id);
        var waiting = await Client.WaitForAsync(User, executionId, r => r["status"]!.GetValue<string>() == "waiting");
        var done = await Client.WaitForAsync(User, executionId);

        Assert.Equal("waiting", NodeOf(waiting, "pause")["status"]!.GetValue<string>());
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        Assert.Equal(1, done["outputs"]!["waited"]!.GetValue<int>());
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task SubWorkflow_RunsAChildAndReturnsItsOutputs()
    {
        var child = await Client.CreateWorkflowAsync(User, Line(new { shout = "{{up.text}}!" }, Node("up", "template", new { template = "HELLO {{inputs.who}}" })), "child");

        var run = await RunAsync(Line(new { result = "{{sub.shout}}" }, Node("sub", "sub_workflow", new { workflowId = child, inputs = new { who = "{{inputs.name}}" } })), new { name = "Bo" });

        Assert.Equal("HELLO Bo!", run["outputs"]!["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task SubWorkflow_OfAMissingWorkflow_FailsTheNode()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { }, Node("sub", "sub_workflow", new { workflowId = "wf_missing" })));

        var run = await Client.WaitForAsync(User, await Client.ExecuteAsync(User, id));

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("SUB_WORKFLOW_FAILED", run["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Loop_RunsEachItemAndCollectsOutputsInOrder()
    {
        var child = await Client.CreateWorkflowAsync(User, Line(new { value = "{{calc.text}}" }, Node("calc", "template", new { template = "{{inputs.index}}:{{inputs.item}}{{inputs.suffix}}" })), "item");

        var run = await RunAsync(Line(new { results = "{{each.results}}", count = "{{each.count}}" },
            Node("each", "loop", new { items = "{{inputs.list}}", workflowId = child, concurrency = 2, inputs = new { suffix = "!" } })),
            new { list = new[] { "a", "b", "c", "d", "e" } });

        Assert.Equal(5, run["outputs"]!["count"]!.GetValue<int>());
        Assert.Equal(["0:a!", "1:b!", "2:c!", "3:d!", "4:e!"], run["outputs"]!["results"]!.AsArray().Select(r => r!["value"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Loop_OverNothing_SucceedsEmpty_AndOverANonList_Fails()
    {
        var child = await Client.CreateWorkflowAsync(User, Line(new { }), "item");
        var empty = await RunAsync(Line(new { count = "{{each.count}}" }, Node("each", "loop", new { items = "{{inputs.list}}", workflowId = child })), new { list = Array.Empty<int>() });
        var id = await Client.CreateWorkflowAsync(User, Line(new { }, Node("each", "loop", new { items = "{{inputs.list}}", workflowId = child })));

        var notAList = await Client.WaitForAsync(User, await Client.ExecuteAsync(User, id, new { list = "nope" }));

        Assert.Equal(0, empty["outputs"]!["count"]!.GetValue<int>());
        Assert.Equal("INVALID_ITEMS", notAList["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Events_RecordStartedRetryOutputAndCompleted()
    {
        var key = Guid.NewGuid().ToString("N");
        var run = await RunAsync(Line(new { }, Node("call", "http_request", new { url = $"{Upstream.BaseUrl}/flaky/{key}?failures=1", retry = new { maxAttempts = 2, backoffSeconds = 0 } })));
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", User.AccessToken);

        var stream = await client.GetStringAsync($"/api/v1/executions/{run["executionId"]!.GetValue<string>()}/events");

        var types = stream.Split('\n').Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l[7..]).ToList();
        Assert.Equal("execution.started", types[0]);
        Assert.Contains("node.started", types);
        Assert.Contains("node.retry", types);
        Assert.Equal("execution.completed", types[^1]);
    }
}

/// <summary>Without an allow-list, http_request cannot reach loopback or private addresses (SSRF).</summary>
public sealed class OutboundHttpPolicyTests(OutboundHttpPolicyTests.Factory factory) : IClassFixture<OutboundHttpPolicyTests.Factory>
{
    public sealed class Factory() : WorkflowFactory(new Dictionary<string, string?> { ["Http:AllowedPrivateHosts"] = "" });

    private readonly HttpClient Client = factory.CreateClient();

    [Theory]
    [InlineData("http://127.0.0.1:9/")]
    [InlineData("http://localhost:9/")]
    [InlineData("http://10.0.0.1/")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]:9/")]
    public async Task HttpRequest_ToAnInternalAddress_IsRefused(string url)
    {
        var user = await Client.RegisterAsync();
        var id = await Client.CreateWorkflowAsync(user, Line(new { }, Node("call", "http_request", new { url })));

        var run = await Client.WaitForAsync(user, await Client.ExecuteAsync(user, id));

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("ADDRESS_NOT_ALLOWED", run["error"]!["code"]!.GetValue<string>());
    }
}
