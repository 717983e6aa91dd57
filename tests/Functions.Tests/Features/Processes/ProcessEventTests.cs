using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Tests.Features.WorkflowTriggers;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Processes;

/// <summary>
/// Event-based processes start from platform events: recorded with the event log, delivered by the
/// DispatchPlatformEvent queue function (drained here as the host would), once per process and event id.
/// </summary>
public sealed class ProcessEventTests : IDisposable
{
    private readonly PlatformFactory _factory = new();

    [Fact]
    public async Task MatchingEvent_StartsEachMatchingProcessOnce_WithTheEventAsInput_AndRedeliveryStartsNothing()
    {
        var client = _factory.CreateClient();
        var user = await client.RegisterAsync();
        // Registration records user.created; it is dispatched before any process exists, so it starts nothing.
        await DrainAsync();
        var matching = await client.CreateWorkflowAsync(user, Line(new { }), "matching");
        var unfiltered = await client.CreateWorkflowAsync(user, Line(new { }), "unfiltered");
        var other = await client.CreateWorkflowAsync(user, Line(new { }), "other");
        var filtered = await client.CreateProcessAsync(user, new
        {
            name = "on ds_1",
            trigger_type = "event_based",
            @event = new { name = "dataset.completed", filter = new Dictionary<string, object> { ["datasetId"] = "ds_1", ["meta.ok"] = true } },
            action = new { workflowId = matching, inputs = new { x = 3 } },
        });
        await client.CreateProcessAsync(user, new { name = "any dataset", trigger_type = "event_based", @event = new { name = "dataset.completed" }, action = new { workflowId = unfiltered } });
        await client.CreateProcessAsync(user, new
        {
            name = "on ds_2",
            trigger_type = "event_based",
            @event = new { name = "dataset.completed", filter = new { datasetId = "ds_2" } },
            action = new { workflowId = other },
        });
        await client.CreateProcessAsync(user, new { name = "users", trigger_type = "event_based", @event = new { name = "user.created" }, action = new { workflowId = other } });
        var paused = await client.CreateProcessAsync(user, new
        {
            name = "paused", trigger_type = "event_based", is_active = false, @event = new { name = "dataset.completed" }, action = new { workflowId = other },
        });

        var log = _factory.Services.GetRequiredService<PlatformEventLog>();
        var data = new JsonObject { ["datasetId"] = "ds_1", ["meta"] = new JsonObject { ["ok"] = true, ["n"] = 2 } };
        var eventId = "dataset.completed:ds_1:" + Guid.NewGuid().ToString("N");
        await log.AppendOnceAsync(user.PersonalWorkspaceId, eventId, "dataset.completed", data, CancellationToken.None);
        // The event, and the workflow.completed events of runs it started that already ended.
        Assert.InRange(await DrainAsync(), 1, 3);

        Assert.Equal(1, await client.CountRunsAsync(user, matching));
        Assert.Equal(1, await client.CountRunsAsync(user, unfiltered));
        Assert.Equal(0, await client.CountRunsAsync(user, other));
        Assert.Empty(await client.ListProcessExecutionsAsync(user, paused.Id()));
        var execution = Assert.Single(await client.ListProcessExecutionsAsync(user, filtered.Id()))!;
        Assert.Equal("event", execution["source"]!.GetValue<string>());
        Assert.Equal(eventId, execution["event_id"]!.GetValue<string>());
        var run = await client.GetExecutionAsync(user, execution["execution_id"]!.GetValue<string>());
        Assert.Equal(3, run["inputs"]!["x"]!.GetValue<int>());
        Assert.Equal(eventId, run["inputs"]!["event"]!["id"]!.GetValue<string>());
        Assert.Equal("dataset.completed", run["inputs"]!["event"]!["type"]!.GetValue<string>());
        Assert.Equal(2, run["inputs"]!["event"]!["data"]!["meta"]!["n"]!.GetValue<int>());

        // A recorder's retry queues the same event again; it was handled, so nothing new starts.
        await log.AppendOnceAsync(user.PersonalWorkspaceId, eventId, "dataset.completed", data, CancellationToken.None);
        await TriggerInvoker.InvokeAsync(_factory.Services, "DispatchPlatformEvent",
            $$"""{"workspaceId":"{{user.PersonalWorkspaceId}}","eventId":"{{eventId}}"}""");
        Assert.InRange(await DrainAsync(), 1, 3);

        Assert.Equal(1, await client.CountRunsAsync(user, matching));
        Assert.Equal(1, await client.CountRunsAsync(user, unfiltered));
    }

    [Fact]
    public async Task EventOfAnotherWorkspace_StartsNothing()
    {
        var client = _factory.CreateClient();
        var user = await client.RegisterAsync();
        var workflow = await client.CreateWorkflowAsync(user, Line(new { }));
        await client.CreateProcessAsync(user, new { name = "any", trigger_type = "event_based", @event = new { name = "dataset.completed" }, action = new { workflowId = workflow } });

        var stranger = await client.RegisterAsync();
        await _factory.Services.GetRequiredService<PlatformEventLog>().AppendOnceAsync(stranger.PersonalWorkspaceId, "dataset.completed:x:" + Guid.NewGuid().ToString("N"),
            "dataset.completed", [], CancellationToken.None);
        await DrainAsync();

        Assert.Equal(0, await client.CountRunsAsync(user, workflow));
    }

    private Task<int> DrainAsync() => PlatformEventQueue.DrainAsync(_factory.Services);

    public void Dispose() => _factory.Dispose();
}
