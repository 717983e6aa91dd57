using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>The per-workspace cap: excess runs wait as queued, and past the queue's limit execute answers 429.</summary>
public sealed class ConcurrencyCapTests(ConcurrencyCapTests.Factory factory) : IClassFixture<ConcurrencyCapTests.Factory>
{
    public sealed class Factory() : WorkflowFactory(new Dictionary<string, string?>
    {
        ["Workflows:MaxRunningPerWorkspace"] = "1",
        ["Workflows:MaxQueuedPerWorkspace"] = "1",
    });

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Runs_OverTheCap_WaitQueued_ThenRun_AndPastTheQueueAre429()
    {
        var user = await _client.RegisterAsync();
        // Long enough that the first run still holds the only slot while the test looks, even on a loaded machine.
        var id = await _client.CreateWorkflowAsync(user, Line(new { }, Node("pause", "delay", new { seconds = 3 })));

        var first = await _client.ExecuteAsync(user, id);
        await _client.WaitForAsync(user, first, r => r["status"]!.GetValue<string>() == "waiting");
        var second = await _client.ExecuteAsync(user, id);
        await Task.Delay(300);
        var secondWhileFirstRuns = await _client.GetExecutionAsync(user, second);
        var third = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { }, user.AccessToken);
        var secondDone = await _client.WaitForAsync(user, second);

        Assert.Equal("queued", secondWhileFirstRuns["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.TooManyRequests, third.Status);
        Assert.Equal("succeeded", secondDone["status"]!.GetValue<string>());
        Assert.True(DateTimeOffset.Parse(secondDone["startedAt"]!.GetValue<string>()) >= DateTimeOffset.Parse((await _client.GetExecutionAsync(user, first))["completedAt"]!.GetValue<string>()));
    }
}

/// <summary>
/// With no standalone trigger host, the test plays the Functions host: it takes messages off the queue and POSTs
/// them to the RunWorkflowStep queue function, and fires the WorkflowWatchdog timer function. A lost message is recovered by the watchdog.
/// </summary>
public sealed class HostDrivenEngineTests(HostDrivenEngineTests.Factory factory) : IClassFixture<HostDrivenEngineTests.Factory>
{
    public sealed class Factory() : WorkflowFactory(new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "false",
        ["Workflows:StaleAfterSeconds"] = "1",
        ["Workflows:NodeLeaseSeconds"] = "1",
    });

    private readonly HttpClient _client = factory.CreateClient();

    private IWorkQueue Queue => factory.Services.GetRequiredService<IWorkQueue>();

    /// <summary>Delivers queued work items until none is left (or, with <paramref name="untilNodeItem"/>, until a node attempt is next).</summary>
    private async Task<int> DeliverAllAsync(bool untilNodeItem = false)
    {
        var delivered = 0;
        while ((await Queue.DequeueAsync("workflow-steps", 1, TimeSpan.FromMinutes(1), CancellationToken.None)) is { Count: > 0 } messages)
        {
            if (untilNodeItem && messages[0].Body.Contains("\"k\":\"node\"", StringComparison.Ordinal))
            {
                await Queue.UpdateVisibilityAsync("workflow-steps", messages[0].Id, messages[0].PopReceipt, TimeSpan.Zero, CancellationToken.None);
                return delivered;
            }

            foreach (var message in messages)
            {
                await TriggerInvoker.InvokeAsync(factory.Services, "RunWorkflowStep", message.Body, message.DequeueCount);
                await Queue.DeleteAsync("workflow-steps", message.Id, message.PopReceipt, CancellationToken.None);
                delivered++;
            }
        }

        return delivered;
    }

    [Fact]
    public async Task QueueFunction_DrivesARunToTheEnd()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { v = "{{inputs.v}}" }, Node("a", "set", new { values = new { x = 1 } })));
        var executionId = await _client.ExecuteAsync(user, id, new { v = 5 });

        var delivered = await DeliverAllAsync();
        var run = await _client.GetExecutionAsync(user, executionId);

        Assert.True(delivered >= 1);
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(5, run["outputs"]!["v"]!.GetValue<int>());
    }

    [Fact]
    public async Task Watchdog_RedrivesARunWhoseMessageWasLost()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { ok = true }));
        var executionId = await _client.ExecuteAsync(user, id);
        var lost = await Queue.DequeueAsync("workflow-steps", 32, TimeSpan.FromMinutes(1), CancellationToken.None);
        foreach (var message in lost)
        {
            await Queue.DeleteAsync("workflow-steps", message.Id, message.PopReceipt, CancellationToken.None);
        }

        await Task.Delay(1200);
        var report = await factory.Services.GetRequiredService<WorkflowEngine>().RedriveAsync(CancellationToken.None);
        await DeliverAllAsync();
        var run = await _client.GetExecutionAsync(user, executionId);

        Assert.NotEmpty(lost);
        Assert.True(report.Redriven >= 1, $"re-drove {report.Redriven} of {report.Checked}");
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task NodeWhoseWorkerKeepsDying_IsFailedWithAReasonAfterThreeTakeovers()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var user = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(user, Line(new { }, Node("call", "http_request", new { url = upstream.BaseUrl + "/slow?ms=10000" })));
        var executionId = await _client.ExecuteAsync(user, id);
        await DeliverAllAsync(untilNodeItem: true);

        for (var takeover = 0; takeover <= 3; takeover++)
        {
            // The invocation dies mid-attempt: the node stays running under a lease nobody renews.
            var item = Assert.Single(await Queue.DequeueAsync("workflow-steps", 1, TimeSpan.FromMinutes(1), CancellationToken.None));
            await Queue.DeleteAsync("workflow-steps", item.Id, item.PopReceipt, CancellationToken.None);
            using var dying = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TriggerInvoker.InvokeAsync(factory.Services, "RunWorkflowStep", item.Body, cancellationToken: dying.Token));
            await Task.Delay(1300);
            await TriggerInvoker.InvokeAsync(factory.Services, "WorkflowWatchdog");
            if (takeover == 3)
            {
                break;
            }
        }

        await DeliverAllAsync();
        var run = await _client.GetExecutionAsync(user, executionId);
        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("WORKER_LOST", run["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task DuplicateDelivery_AppliesTheStepOnce()
    {
        var user = await _client.RegisterAsync();
        var child = await _client.CreateWorkflowAsync(user, Line(new { v = "{{inputs.item}}" }), "item");
        var id = await _client.CreateWorkflowAsync(user, Line(new { results = "{{each.results}}" }, Node("each", "loop", new { items = "{{inputs.list}}", workflowId = child, concurrency = 3 })));
        var executionId = await _client.ExecuteAsync(user, id, new { list = new[] { 1, 2, 3 } });

        // Deliver every message twice, as an at-least-once queue may.
        while ((await Queue.DequeueAsync("workflow-steps", 32, TimeSpan.FromMinutes(1), CancellationToken.None)) is { Count: > 0 } messages)
        {
            foreach (var message in messages.Concat(messages))
            {
                await TriggerInvoker.InvokeAsync(factory.Services, "RunWorkflowStep", message.Body);
            }

            foreach (var message in messages)
            {
                await Queue.DeleteAsync("workflow-steps", message.Id, message.PopReceipt, CancellationToken.None);
            }
        }

        var run = await _client.GetExecutionAsync(user, executionId);
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal([1, 2, 3], run["outputs"]!["results"]!.AsArray().Select(r => r!["v"]!.GetValue<int>()));
        Assert.Equal(1, NodeOf(run, "each")["attempts"]!.GetValue<int>());
    }
}
