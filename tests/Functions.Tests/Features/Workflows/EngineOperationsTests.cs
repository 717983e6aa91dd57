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
