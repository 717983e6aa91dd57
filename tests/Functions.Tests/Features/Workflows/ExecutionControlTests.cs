using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

public sealed class ExecutionControlTests(WorkflowFactory factory) : WorkflowTestBase(factory), IClassFixture<WorkflowFactory>
{
    private static JsonObject ReviewFlow() => Definition(
        [
            Node("start", "start"),
            Node("review", "human_review", new { instructions = "Approve the refund of {{inputs.amount}}?", data = new { amount = "{{inputs.amount}}" } }),
            Node("paid", "set", new { values = new { outcome = "paid", note = "{{review.data.note}}" } }),
            Node("refused", "set", new { values = new { outcome = "refused" } }),
            Node("end", "end", new { outputs = new { paid = "{{paid.outcome}}", note = "{{paid.note}}", refused = "{{refused.outcome}}", decision = "{{review.decision}}" } }),
        ],
        [Edge("start", "review"), Edge("review", "paid", "approved"), Edge("review", "refused", "rejected"), Edge("paid", "end"), Edge("refused", "end")]);

    [Fact]
    public async Task Execute_Answers202AtOnce_AndTheRunCompletes()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { v = "{{inputs.v}}" }));

        var accepted = await Client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { input = new { v = 7 }, metadata = new { source = "test" } }, User.AccessToken);
        var run = await Client.WaitForAsync(User, accepted.Data["executionId"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("queued", accepted.Data["status"]!.GetValue<string>());
        Assert.Equal(7, run["outputs"]!["v"]!.GetValue<int>());
        Assert.Equal("test", run["metadata"]!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task Execute_WithIdempotencyKey_GivesTheSameExecutionBack()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { }));
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        var first = await Client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { input = new { a = 1 } }, User.AccessToken, key);
        var second = await Client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { input = new { a = 1 } }, User.AccessToken, key);
        var runs = await Client.ApiGetAsync($"/api/v1/executions?workflowId={id}", User.AccessToken);

        Assert.Equal(first.Data["executionId"]!.GetValue<string>(), second.Data["executionId"]!.GetValue<string>());
        Assert.Single(runs.Data.AsArray());
    }

    [Fact]
    public async Task Run_NotDoneInTime_Answers202_AndTheRunGoesOn()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { done = true }, Node("pause", "delay", new { seconds = 1 })));

        var answer = await Client.ApiPostAsync($"/api/v1/workflows/{id}/run", new { options = new { timeout = 100 } }, User.AccessToken);
        var run = await Client.WaitForAsync(User, answer.Data["runId"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Accepted, answer.Status);
        Assert.Equal("waiting", answer.Data["status"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stop_CancelsAWaitingRun()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { }, Node("pause", "delay", new { seconds = 60 })));
        var executionId = await Client.ExecuteAsync(User, id);
        await Client.WaitForAsync(User, executionId, r => r["status"]!.GetValue<string>() == "waiting");

        var stopped = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/stop", new { }, User.AccessToken);
        var run = await Client.GetExecutionAsync(User, executionId);
        var again = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/stop", new { }, User.AccessToken);

        Assert.Equal("cancelled", stopped.Data["status"]!.GetValue<string>());
        Assert.Equal("cancelled", NodeOf(run, "pause")["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
    }

    [Fact]
    public async Task Stop_AlsoStopsChildRuns()
    {
        var child = await Client.CreateWorkflowAsync(User, Line(new { }, Node("pause", "delay", new { seconds = 60 })), "child");
        var id = await Client.CreateWorkflowAsync(User, Line(new { }, Node("sub", "sub_workflow", new { workflowId = child })));
        var executionId = await Client.ExecuteAsync(User, id);
        var waiting = await Client.WaitForAsync(User, executionId, r => NodeOf(r, "sub")["waiting"]?["children"]?.AsArray().Count == 1);
        var childId = NodeOf(waiting, "sub")["waiting"]!["children"]![0]!["executionId"]!.GetValue<string>();
        await Client.WaitForAsync(User, childId, r => r["status"]!.GetValue<string>() == "waiting");

        await Client.ApiPostAsync($"/api/v1/executions/{executionId}/stop", new { }, User.AccessToken);

        var childRun = await Client.WaitForAsync(User, childId);
        Assert.Equal("cancelled", childRun["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retry_ResumesFromTheFailedNode_KeepingWhatSucceeded()
    {
        var key = Guid.NewGuid().ToString("N");
        var id = await Client.CreateWorkflowAsync(User, Line(new { ok = "{{call.body.ok}}", before = "{{first.n}}" },
            Node("first", "set", new { values = new { n = 1 } }),
            Node("call", "http_request", new { url = $"{Upstream.BaseUrl}/flaky/{key}?failures=1000" })));
        var executionId = await Client.ExecuteAsync(User, id);
        var failed = await Client.WaitForAsync(User, executionId);
        Upstream.Healed[key] = true;

        var retried = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/retry", new { }, User.AccessToken);
        var run = await Client.WaitForAsync(User, executionId, r => r["status"]!.GetValue<string>() == "succeeded");

        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, retried.Status);
        Assert.True(run["outputs"]!["ok"]!.GetValue<bool>());
        Assert.Equal(1, run["outputs"]!["before"]!.GetValue<int>());
        Assert.Equal(1, run["stats"]!["retries"]!.GetValue<int>());
        Assert.Equal(1, NodeOf(run, "first")["attempts"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Conflict, (await Client.ApiPostAsync($"/api/v1/executions/{executionId}/retry", new { }, User.AccessToken)).Status);
    }

    [Fact]
    public async Task Review_Approve_TakesTheApprovedBranchWithTheReviewersData()
    {
        var id = await Client.CreateWorkflowAsync(User, ReviewFlow());
        var executionId = await Client.ExecuteAsync(User, id, new { amount = 120 });
        await Client.WaitForAsync(User, executionId, r => r["status"]!.GetValue<string>() == "waiting");

        var pending = await Client.ApiGetAsync("/api/v1/executions/review/pending", User.AccessToken);
        var decided = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/review", new { nodeId = "review", decision = "approve", data = new { note = "ok by me" } }, User.AccessToken);
        var run = await Client.WaitForAsync(User, executionId);

        var item = Assert.Single(pending.Data.AsArray(), p => p!["executionId"]!.GetValue<string>() == executionId)!;
        Assert.Equal("Approve the refund of 120?", item["prompt"]!["instructions"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, decided.Status);
        Assert.Equal("paid", run["outputs"]!["paid"]!.GetValue<string>());
        Assert.Equal("ok by me", run["outputs"]!["note"]!.GetValue<string>());
        Assert.Equal("approved", run["outputs"]!["decision"]!.GetValue<string>());
        Assert.Null(run["outputs"]!["refused"]);
    }

    [Fact]
    public async Task Review_Reject_TakesTheRejectedBranch_AndASecondDecisionIs409()
    {
        var id = await Client.CreateWorkflowAsync(User, ReviewFlow());
        var executionId = await Client.ExecuteAsync(User, id, new { amount = 5 });
        await Client.WaitForAsync(User, executionId, r => r["status"]!.GetValue<string>() == "waiting");

        await Client.ApiPostAsync($"/api/v1/executions/{executionId}/review", new { nodeId = "review", decision = "reject" }, User.AccessToken);
        var run = await Client.WaitForAsync(User, executionId);
        var late = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/review", new { nodeId = "review", decision = "approve" }, User.AccessToken);
        var invalid = await Client.ApiPostAsync($"/api/v1/executions/{executionId}/review", new { nodeId = "review", decision = "maybe" }, User.AccessToken);

        Assert.Equal("refused", run["outputs"]!["refused"]!.GetValue<string>());
        Assert.Equal("rejected", run["outputs"]!["decision"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, late.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
    }

    [Fact]
    public async Task ListAndStatus_ShowRunsNewestFirstWithFilters()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { }));
        var other = await Client.CreateWorkflowAsync(User, Line(new { }));
        var first = (await Client.RunAsync(User, id))["executionId"]!.GetValue<string>();
        var second = (await Client.RunAsync(User, id))["executionId"]!.GetValue<string>();
        await Client.RunAsync(User, other);

        var mine = await Client.ApiGetAsync($"/api/v1/executions?workflowId={id}", User.AccessToken);
        var succeeded = await Client.ApiGetAsync($"/api/v1/executions?workflowId={id}&status=succeeded&from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O"))}", User.AccessToken);
        var future = await Client.ApiGetAsync($"/api/v1/executions?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"))}", User.AccessToken);
        var status = await Client.ApiGetAsync($"/api/v1/workflows/{id}/status", User.AccessToken);
        var badFilter = await Client.ApiGetAsync("/api/v1/executions?status=sleeping", User.AccessToken);

        Assert.Equal([second, first], mine.Data.AsArray().Select(r => r!["id"]!.GetValue<string>()));
        Assert.Equal(2, succeeded.Data.AsArray().Count);
        Assert.Empty(future.Data.AsArray());
        Assert.Equal(second, status.Data["latestExecution"]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badFilter.Status);
    }

    [Fact]
    public async Task ExecutionDetail_HasPerNodeInputsOutputsAttemptsAndTimings()
    {
        var id = await Client.CreateWorkflowAsync(User, Line(new { t = "{{t.text}}" }, Node("t", "template", new { template = "x{{inputs.y}}" })));

        var run = await Client.GetExecutionAsync(User, (await Client.RunAsync(User, id, new { y = 2 }))["executionId"]!.GetValue<string>());

        var node = NodeOf(run, "t");
        Assert.Equal("x2", node["input"]!["template"]!.GetValue<string>());
        Assert.Equal("x2", node["output"]!["text"]!.GetValue<string>());
        Assert.Equal(1, node["attempts"]!.GetValue<int>());
        Assert.NotNull(node["startedAt"]);
        Assert.NotNull(node["completedAt"]);
        Assert.Equal(3, run["stats"]!["nodesSucceeded"]!.GetValue<int>());
    }
}
