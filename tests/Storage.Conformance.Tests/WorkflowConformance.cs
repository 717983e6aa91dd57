using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Storage.Conformance.Tests;

/// <summary>
/// The app, started on one Durable Task backend, with a fake upstream for http_request nodes. The per-workspace cap
/// is 1 (every scenario has a workspace of its own, and child runs are not capped), so the cap scenario needs no
/// app of its own.
/// </summary>
public abstract class WorkflowBackend : IAsyncLifetime
{
    private PlatformFactory? _factory;

    public HttpClient Client { get; private set; } = null!;

    public FakeUpstream Upstream { get; private set; } = null!;

    /// <summary>How long a scenario waits for a run to reach a state (the Azure Storage backend polls its queues).</summary>
    public abstract int WaitSeconds { get; }

    /// <summary>The backend's settings on top of the workflow test settings.</summary>
    protected abstract Task<IDictionary<string, string?>> BackendSettingsAsync();

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Triggers:Enabled"] = "true",
            ["Http:AllowedPrivateHosts"] = "127.0.0.1",
            ["RateLimits:ExecutePerMinute"] = "100000",
            ["Workflows:HeartbeatSeconds"] = "1",
            ["Workflows:MaxRunningPerWorkspace"] = "1",
        };
        foreach (var (key, value) in await BackendSettingsAsync())
        {
            settings[key] = value;
        }

        _factory = PlatformFactory.With(settings);
        Client = _factory.CreateClient();
    }

    public virtual async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// What every workflow backend must do, driven through the public HTTP API only: the same scenarios, the same
/// outcomes, whichever Durable Task backend runs the orchestrations. A subclass supplies the backend.
/// </summary>
public abstract class WorkflowConformance(WorkflowBackend backend) : IAsyncLifetime
{
    private HttpClient Client => backend.Client;

    private FakeUpstream Upstream => backend.Upstream;

    private TestUser User { get; set; } = null!;

    public async Task InitializeAsync() => User = await Client.RegisterAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<JsonNode> WaitForAsync(string executionId, Func<JsonNode, bool>? until = null) =>
        Client.WaitForAsync(User, executionId, until, backend.WaitSeconds);

    private static Func<JsonNode, bool> Status(string status) => run => run["status"]!.GetValue<string>() == status;

    private async Task<JsonNode> RunToEndAsync(JsonObject definition, object? inputs = null, string name = "wf")
    {
        var id = await Client.CreateWorkflowAsync(User, definition, name);
        return await WaitForAsync(await Client.ExecuteAsync(User, id, inputs));
    }

    private static void AssertSucceeded(JsonNode run) =>
        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());

    private static JsonObject ConditionFlow() => Definition(
        [
            Node("start", "start"),
            Node("check", "condition", new { conditions = new[] { new { left = "{{inputs.n}}", @operator = "gt", right = 10 } } }),
            Node("big", "set", new { values = new { size = "big" } }),
            Node("small", "set", new { values = new { size = "small" } }),
            Node("join", "merge"),
            Node("end", "end", new { outputs = new { size = "{{join.merged.size}}", big = "{{big.size}}", small = "{{small.size}}" } }),
        ],
        [Edge("start", "check"), Edge("check", "big", "true"), Edge("check", "small", "false"), Edge("big", "join"), Edge("small", "join"), Edge("join", "end")]);

    private static JsonObject ReviewFlow() => Definition(
        [
            Node("start", "start"),
            Node("review", "human_review", new { instructions = "Ship {{inputs.item}}?" }),
            Node("yes", "set", new { values = new { outcome = "shipped", note = "{{review.data.note}}" } }),
            Node("no", "set", new { values = new { outcome = "held" } }),
            Node("end", "end", new { outputs = new { yes = "{{yes.outcome}}", note = "{{yes.note}}", no = "{{no.outcome}}", decision = "{{review.decision}}" } }),
        ],
        [Edge("start", "review"), Edge("review", "yes", "approved"), Edge("review", "no", "rejected"), Edge("yes", "end"), Edge("no", "end")]);

    [Fact]
    public async Task Condition_TrueAndFalse_EachRunTakesOnlyItsBranch()
    {
        var id = await Client.CreateWorkflowAsync(User, ConditionFlow());

        var big = await WaitForAsync(await Client.ExecuteAsync(User, id, new { n = 42 }));
        var small = await WaitForAsync(await Client.ExecuteAsync(User, id, new { n = 3 }));

        AssertSucceeded(big);
        AssertSucceeded(small);
        Assert.Equal("big", big["outputs"]!["size"]!.GetValue<string>());
        Assert.Null(big["outputs"]!["small"]);
        Assert.Equal("small", small["outputs"]!["size"]!.GetValue<string>());
        Assert.Null(small["outputs"]!["big"]);
    }

    [Fact]
    public async Task FanOut_TenHttpRequests_AllRunAndTheMergeCollectsEveryBranch()
    {
        const int Branches = 10;
        var calls = Enumerable.Range(0, Branches).Select(i => Node($"call{i}", "http_request", new { url = $"{Upstream.BaseUrl}/echo?branch={i}" })).ToList();
        var outputs = Enumerable.Range(0, Branches).ToDictionary(i => $"b{i}", i => $"{{{{call{i}.body.query}}}}");
        outputs["joined"] = "{{join.branches}}";
        var before = Upstream.Calls("/echo");

        var run = await RunToEndAsync(Definition(
            [Node("start", "start"), .. calls, Node("join", "merge"), Node("end", "end", new { outputs })],
            [.. calls.Select(c => Edge("start", c["id"]!.GetValue<string>())), .. calls.Select(c => Edge(c["id"]!.GetValue<string>(), "join")), Edge("join", "end")]));

        AssertSucceeded(run);
        Assert.Equal(Branches, run["outputs"]!["joined"]!.AsObject().Count);
        Assert.All(Enumerable.Range(0, Branches), i => Assert.Equal($"?branch={i}", run["outputs"]![$"b{i}"]!.GetValue<string>()));
        Assert.All(run["nodes"]!.AsArray(), n => Assert.Equal("succeeded", n!["status"]!.GetValue<string>()));
        Assert.Equal(Branches, Upstream.Calls("/echo") - before);
    }

    [Fact]
    public virtual async Task Delay_OfOneSecond_WaitsOnATimerThenSucceeds()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { waited = "{{pause.waitedSeconds}}" }, Node("pause", "delay", new { seconds = 1 })));
        var clock = Stopwatch.StartNew();

        var executionId = await Client.ExecuteAsync(User, id);
        var waiting = await WaitForAsync(executionId, r => r["status"]!.GetValue<string>() is "waiting" or "succeeded");
        var run = await WaitForAsync(executionId);

        AssertSucceeded(run);
        Assert.Equal(1, run["outputs"]!["waited"]!.GetValue<int>());
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"finished after {clock.Elapsed}: first seen {waiting.ToJsonString()}; finished {run.ToJsonString()}");
        Assert.Equal("waiting", waiting["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task HumanReview_Approved_TakesTheApprovedBranchWithTheReviewersData()
    {
        var id = await Client.CreateWorkflowAsync(User, ReviewFlow());
        var executionId = await Client.ExecuteAsync(User, id, new { item = "box" });
        await WaitForAsync(executionId, Status("waiting"));

        var decided = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/review", new { nodeId = "review", decision = "approve", data = new { note = "go" } }, User.AccessToken);
        var run = await WaitForAsync(executionId);

        Assert.Equal(HttpStatusCode.Accepted, decided.Status);
        AssertSucceeded(run);
        Assert.Equal("shipped", run["outputs"]!["yes"]!.GetValue<string>());
        Assert.Equal("go", run["outputs"]!["note"]!.GetValue<string>());
        Assert.Equal("approved", run["outputs"]!["decision"]!.GetValue<string>());
        Assert.Null(run["outputs"]!["no"]);
    }

    [Fact]
    public async Task Stop_OfAWaitingRun_CancelsIt_AndRetry_RunsItToTheEnd()
    {
        var id = await Client.CreateWorkflowAsync(User, ReviewFlow());
        var executionId = await Client.ExecuteAsync(User, id, new { item = "crate" });
        await WaitForAsync(executionId, Status("waiting"));

        var stopped = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/stop", new { }, User.AccessToken);
        var cancelled = await WaitForAsync(executionId);
        var retried = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/retry", new { }, User.AccessToken);
        await WaitForAsync(executionId, Status("waiting"));
        await Client.ApiPostAsync($"/api/v1/executions/{executionId}/review", new { nodeId = "review", decision = "approve" }, User.AccessToken);
        var run = await WaitForAsync(executionId);

        Assert.Equal(HttpStatusCode.OK, stopped.Status);
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, retried.Status);
        AssertSucceeded(run);
        Assert.Equal("shipped", run["outputs"]!["yes"]!.GetValue<string>());
    }

    [Fact]
    public async Task NodeRetry_FailingTwice_SucceedsOnTheThirdAttempt()
    {
        var key = Guid.NewGuid().ToString("N");

        var run = await RunToEndAsync(Line(new { ok = "{{call.body.ok}}" },
            Node("call", "http_request", new { url = $"{Upstream.BaseUrl}/flaky/{key}?failures=2", retry = new { maxAttempts = 3, backoffSeconds = 0.2 } })));

        AssertSucceeded(run);
        Assert.True(run["outputs"]!["ok"]!.GetValue<bool>());
        Assert.Equal(3, NodeOf(run, "call")["attempts"]!.GetValue<int>());
        Assert.Equal(3, Upstream.Calls($"/flaky/{key}"));
    }

    [Fact]
    public async Task OnErrorBranch_AFailingNode_RoutesToTheErrorBranchAndTheRunSucceeds()
    {
        var run = await RunToEndAsync(Definition(
            [
                Node("start", "start"),
                Node("call", "http_request", new { url = Upstream.BaseUrl + "/status/500", onError = "branch" }),
                Node("happy", "set", new { values = new { path = "happy" } }),
                Node("sad", "set", new { values = new { path = "sad", code = "{{call.error.code}}" } }),
                Node("end", "end", new { outputs = new { happy = "{{happy.path}}", sad = "{{sad.path}}", code = "{{sad.code}}" } }),
            ],
            [Edge("start", "call"), Edge("call", "happy"), Edge("call", "sad", "error"), Edge("happy", "end"), Edge("sad", "end")]));

        AssertSucceeded(run);
        Assert.Equal("sad", run["outputs"]!["sad"]!.GetValue<string>());
        Assert.Null(run["outputs"]!["happy"]);
        Assert.False(string.IsNullOrEmpty(run["outputs"]!["code"]?.ToString()));
    }

    [Fact]
    public async Task SubWorkflow_RunsTheChildAndReturnsItsOutputs()
    {
        var child = await Client.CreateWorkflowAsync(User, Line(new { shout = "{{up.text}}!" }, Node("up", "template", new { template = "HELLO {{inputs.who}}" })), "child");

        var run = await RunToEndAsync(Line(new { result = "{{sub.shout}}" }, Node("sub", "sub_workflow", new { workflowId = child, inputs = new { who = "{{inputs.name}}" } })), new { name = "Bo" });

        AssertSucceeded(run);
        Assert.Equal("HELLO Bo!", run["outputs"]!["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task Loop_OverThreeItems_RunsEachAndCollectsOutputsInOrder()
    {
        var child = await Client.CreateWorkflowAsync(User, Line(new { value = "{{calc.text}}" }, Node("calc", "template", new { template = "{{inputs.index}}:{{inputs.item}}" })), "item");

        var run = await RunToEndAsync(Line(new { results = "{{each.results}}", count = "{{each.count}}" },
            Node("each", "loop", new { items = "{{inputs.list}}", workflowId = child, concurrency = 2 })), new { list = new[] { "a", "b", "c" } });

        AssertSucceeded(run);
        Assert.Equal(3, run["outputs"]!["count"]!.GetValue<int>());
        Assert.Equal(["0:a", "1:b", "2:c"], run["outputs"]!["results"]!.AsArray().Select(r => r!["value"]!.GetValue<string>()));
    }

    [Fact]
    public async Task EventStream_OfALiveRun_FollowsItAndEndsWithExecutionCompleted()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { done = true }, Node("pause", "delay", new { seconds = 1 })));
        var executionId = await Client.ExecuteAsync(User, id);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{executionId}/events");
        request.Headers.Authorization = new("Bearer", User.AccessToken);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(backend.WaitSeconds));

        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var stream = await response.Content.ReadAsStringAsync(timeout.Token);

        var types = stream.Split('\n').Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l[7..]).ToList();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("execution.started", types[0]);
        Assert.Contains("node.waiting", types);
        Assert.Equal("execution.completed", types[^1]);
    }

    [Fact]
    public async Task ConcurrencyCap_OfOne_TheSecondRunWaitsQueued_ThenSucceedsAfterTheFirst()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { }, Node("pause", "delay", new { seconds = 2 })));
        var first = await Client.ExecuteAsync(User, id);
        await WaitForAsync(first, Status("waiting"));

        var second = await Client.ExecuteAsync(User, id);
        var secondWhileFirstRuns = await Client.GetExecutionAsync(User, second);
        var secondDone = await WaitForAsync(second);
        var firstDone = await Client.GetExecutionAsync(User, first);

        Assert.Equal("queued", secondWhileFirstRuns["status"]!.GetValue<string>());
        AssertSucceeded(secondDone);
        Assert.True(DateTimeOffset.Parse(secondDone["startedAt"]!.GetValue<string>()) >= DateTimeOffset.Parse(firstDone["completedAt"]!.GetValue<string>()));
    }
}
