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
/// The process dies between accepting a run (document, slot) and scheduling its orchestration: the runs port here
/// drops the first start, as a crash at that instant would. The sweep finds the run once it is older than a minute
/// and starts it; the slot it held is the one it runs in.
/// </summary>
public sealed class RunSweepTests : IDisposable
{
    private readonly PlatformFactory _factory = PlatformFactory.With(new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "false",
        ["Workflows:MaxRunningPerWorkspace"] = "1",
        ["RateLimits:ExecutePerMinute"] = "100000",
    });

    private readonly LosingStarts _starts = new();

    public RunSweepTests() => _factory.TestServices = services =>
    {
        var real = services.Single(d => d.ServiceType == typeof(IRunOrchestrations));
        services.Remove(real);
        services.AddSingleton<IRunOrchestrations>(sp => _starts.Wrap((IRunOrchestrations)real.ImplementationFactory!(sp)));
    };

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task AcceptedRunWhoseStartWasLost_IsStartedByTheSweep_AfterAMinute()
    {
        var client = _factory.CreateClient();
        var user = await client.RegisterAsync();
        var workflow = await client.CreateWorkflowAsync(user, Line(new { v = "{{inputs.v}}" }));
        _starts.LoseNext = true;
        var lost = await client.ExecuteAsync(user, workflow, new { v = 7 });

        var early = await _factory.Services.GetRequiredService<WorkflowRuns>().SweepAsync(CancellationToken.None);
        _factory.Clock.Advance(TimeSpan.FromMinutes(2));
        await TriggerInvoker.InvokeAsync(_factory.Services, "SweepWorkflowRuns");
        var run = await client.WaitForAsync(user, lost);

        Assert.Equal(0, early.Started);
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(7, run["outputs"]!["v"]!.GetValue<int>());
        // The slot was freed at the end: the next run starts at once.
        Assert.Equal("succeeded", (await client.RunAsync(user, workflow, new { v = 8 }))["status"]!.GetValue<string>());
    }

    private sealed class LosingStarts
    {
        public bool LoseNext { get; set; }

        public IRunOrchestrations Wrap(IRunOrchestrations inner) => new Port(this, inner);

        private sealed class Port(LosingStarts owner, IRunOrchestrations inner) : IRunOrchestrations
        {
            public Task StartAsync(string instanceId, RunInput input, CancellationToken cancellationToken)
            {
                if (owner.LoseNext)
                {
                    owner.LoseNext = false;
                    return Task.CompletedTask;
                }

                return inner.StartAsync(instanceId, input, cancellationToken);
            }

            public Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken) =>
                inner.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);

            public Task<bool> ExistsAsync(string instanceId, CancellationToken cancellationToken) => inner.ExistsAsync(instanceId, cancellationToken);
        }
    }
}
