using Serverless.Functions.Tests.Features.WorkflowTriggers;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Processes;

/// <summary>
/// Time-based processes fire from the FireDueProcesses timer, run the way the host runs it, after the clock moved:
/// one run per slot, across instances, once after downtime, on the zone's wall clock. Each test has its own app (and
/// clock); the trigger host is off, so only the test fires the timer.
/// </summary>
public sealed class ProcessScheduleTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static async Task<(HttpClient Client, TestUser User, string Workflow)> SetUpAsync(PlatformFactory factory)
    {
        var client = factory.CreateClient();
        var (user, workflow) = await client.UserWithEchoWorkflowAsync();
        return (client, user, workflow);
    }

    private static Task FireAsync(PlatformFactory factory) => TriggerInvoker.InvokeAsync(factory.Services, "FireDueProcesses");

    [Fact]
    public async Task DueSlot_StartsExactlyOneRun_WithTheActionsInputs_AndMovesNextRun()
    {
        using var factory = new PlatformFactory();
        var (client, user, workflow) = await SetUpAsync(factory);
        var process = await client.CreateProcessAsync(user, ProcessApi.TimeBased(workflow, "0 * * * *", inputs: new { x = 7 }));
        var first = process["next_run"]!.GetValue<DateTimeOffset>();

        await FireAsync(factory);
        Assert.Equal(0, await client.CountRunsAsync(user, workflow));

        factory.Clock.Advance(first - factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(5));
        user = await client.SignInAgainAsync(user);
        await FireAsync(factory);
        await FireAsync(factory);

        var started = Assert.Single(await client.ListProcessExecutionsAsync(user, process.Id()))!;
        // Runs go on without the trigger host (Durable Task runs them); the execution follows its run to the end.
        await client.WaitForAsync(user, started["execution_id"]!.GetValue<string>());
        var execution = Assert.Single(await client.ListProcessExecutionsAsync(user, process.Id()))!;
        Assert.Equal("schedule", execution["source"]!.GetValue<string>());
        Assert.Equal(first, execution["slot"]!.GetValue<DateTimeOffset>());
        Assert.Equal("success", execution["status"]!.GetValue<string>());
        Assert.Equal(1, await client.CountRunsAsync(user, workflow));
        var run = await client.GetExecutionAsync(user, execution["execution_id"]!.GetValue<string>());
        Assert.Equal(7, run["inputs"]!["x"]!.GetValue<int>());
        var shown = await client.GetProcessAsync(user, process.Id());
        Assert.Equal(first.AddHours(1), shown["next_run"]!.GetValue<DateTimeOffset>());
        Assert.Equal(execution["execution_id"]!.GetValue<string>(), shown["last_execution_id"]!.GetValue<string>());
        Assert.NotNull(shown["last_execution"]);
    }

    [Fact]
    public async Task TwoInstancesOnOneStore_FiringTheSameSlot_StartOneRun()
    {
        using var one = new PlatformFactory();
        using var two = PlatformFactory.With(new Dictionary<string, string?> { ["Storage:DataDirectory"] = one.DataDirectory });
        var (client, user, workflow) = await SetUpAsync(one);
        var first = (await client.CreateProcessAsync(user, ProcessApi.TimeBased(workflow, "0 * * * *")))["next_run"]!.GetValue<DateTimeOffset>();
        var by = first - one.Clock.GetUtcNow() + TimeSpan.FromSeconds(5);
        one.Clock.Advance(by);
        two.Clock.Advance(by);
        _ = two.Services;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => FireAsync(i % 2 == 0 ? one : two)));

        user = await client.SignInAgainAsync(user);
        Assert.Equal(1, await client.CountRunsAsync(user, workflow));
    }

    [Fact]
    public async Task MissedSlotsDuringDowntime_FireOnce_ThenTheScheduleGoesOn()
    {
        using var factory = new PlatformFactory();
        var (client, user, workflow) = await SetUpAsync(factory);
        var process = await client.CreateProcessAsync(user, ProcessApi.TimeBased(workflow, "0 * * * *"));
        var first = process["next_run"]!.GetValue<DateTimeOffset>();

        factory.Clock.Advance(first - factory.Clock.GetUtcNow() + TimeSpan.FromHours(5) + TimeSpan.FromMinutes(10));
        await FireAsync(factory);
        await FireAsync(factory);

        user = await client.SignInAgainAsync(user);
        Assert.Equal(1, await client.CountRunsAsync(user, workflow));
        Assert.Equal(first.AddHours(5), Assert.Single(await client.ListProcessExecutionsAsync(user, process.Id()))!["slot"]!.GetValue<DateTimeOffset>());
        Assert.Equal(first.AddHours(6), (await client.GetProcessAsync(user, process.Id()))["next_run"]!.GetValue<DateTimeOffset>());

        factory.Clock.Advance(TimeSpan.FromHours(1));
        await FireAsync(factory);
        user = await client.SignInAgainAsync(user);
        Assert.Equal(2, await client.CountRunsAsync(user, workflow));
    }

    [Fact]
    public async Task DeletedOrInactiveProcesses_NeverFire()
    {
        using var factory = new PlatformFactory();
        var (client, user, workflow) = await SetUpAsync(factory);
        var deleted = await client.CreateProcessAsync(user, ProcessApi.TimeBased(workflow, "0 * * * *"));
        var paused = await client.CreateProcessAsync(user, ProcessApi.TimeBased(workflow, "0 * * * *"));
        await client.ApiDeleteAsync($"/api/v1/processes/{deleted.Id()}", user.AccessToken);
        await client.ApiPutAsync($"/api/v1/processes/{paused.Id()}", new { is_active = false }, user.AccessToken);

        factory.Clock.Advance(TimeSpan.FromHours(2));
        await FireAsync(factory);

        user = await client.SignInAgainAsync(user);
        Assert.Equal(0, await client.CountRunsAsync(user, workflow));
    }

    [Fact]
    public async Task SpringForward_InBerlin_ASlotInTheSkippedHour_FiresOnceAtTheEndOfTheGap()
    {
        using var factory = new PlatformFactory();
        // The next time Berlin's clocks go forward (02:00 CET → 03:00 CEST, last Sunday of March).
        var change = WorkflowTriggerApi.NextOffsetChange(Berlin, factory.Clock.GetUtcNow());
        while (Berlin.GetUtcOffset(change) < Berlin.GetUtcOffset(change.AddHours(-1)))
        {
            change = WorkflowTriggerApi.NextOffsetChange(Berlin, change.AddHours(1));
        }

        factory.Clock.Advance(change.AddMinutes(-90) - factory.Clock.GetUtcNow());
        var (client, user, workflow) = await SetUpAsync(factory);
        var process = await client.CreateProcessAsync(user, ProcessApi.TimeBased(workflow, "30 2 * * *", "Europe/Berlin"));

        // 02:30 does not exist that night; the slot is the end of the gap, 03:00 CEST.
        Assert.Equal(change, process["next_run"]!.GetValue<DateTimeOffset>());
        factory.Clock.Advance(change - factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(5));
        await FireAsync(factory);
        await FireAsync(factory);

        user = await client.SignInAgainAsync(user);
        Assert.Equal(1, await client.CountRunsAsync(user, workflow));
        // The next 02:30 is the next day's, in CEST.
        Assert.Equal(change.AddDays(1).AddHours(-1).AddMinutes(30), (await client.GetProcessAsync(user, process.Id()))["next_run"]!.GetValue<DateTimeOffset>());
    }
}
