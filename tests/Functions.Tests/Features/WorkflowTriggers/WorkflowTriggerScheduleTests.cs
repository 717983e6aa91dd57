using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.WorkflowTriggers;

/// <summary>
/// Schedule triggers fire from the FireScheduledTriggers timer, run the way the host runs it, after the clock moved:
/// one run per slot, across instances, and once after downtime. Each test has its own app (and clock); the trigger
/// host is off, so only the test fires the timer.
/// </summary>
public sealed class WorkflowTriggerScheduleTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    private static async Task<(HttpClient Client, TestUser User, string Workflow)> SetUpAsync(PlatformFactory factory)
    {
        var client = factory.CreateClient();
        var (user, workflow) = await client.UserWithEchoWorkflowAsync();
        return (client, user, workflow);
    }

    private static Task FireAsync(PlatformFactory factory) => TriggerInvoker.InvokeAsync(factory.Services, "FireScheduledTriggers");

    [Fact]
    public async Task DueSlot_StartsExactlyOneRun_WithTheTriggersInputs_AndMovesNextRunAt()
    {
        using var factory = new PlatformFactory();
        var (client, user, workflow) = await SetUpAsync(factory);
        var trigger = await client.CreateTriggerAsync(user, workflow, new { type = "schedule", cron = "0 * * * *", inputs = new { x = 7 } });
        var first = trigger["nextRunAt"]!.GetValue<DateTimeOffset>();

        await FireAsync(factory);
        Assert.Equal(0, await client.CountRunsAsync(user, workflow));

        factory.Clock.Advance(first - factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(5));
        user = await client.SignInAgainAsync(user);
        await FireAsync(factory);
        await FireAsync(factory);

        var runs = (await client.ApiGetAsync($"/api/v1/executions?workflowId={workflow}", user.AccessToken)).Data.AsArray();
        Assert.Single(runs);
        var run = await client.GetExecutionAsync(user, runs[0]!["id"]!.GetValue<string>());
        Assert.Equal(7, run["inputs"]!["x"]!.GetValue<int>());
        var listed = (await client.ListTriggersAsync(user, workflow)).Single()!;
        Assert.Equal(first.AddHours(1), listed["nextRunAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(first, listed["lastRunAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(runs[0]!["id"]!.GetValue<string>(), listed["lastExecutionId"]!.GetValue<string>());
    }

    [Fact]
    public async Task TwoInstancesOnOneStore_FiringTheSameSlot_StartOneRun()
    {
        using var one = new PlatformFactory();
        using var two = PlatformFactory.With(new Dictionary<string, string?> { ["Storage:DataDirectory"] = one.DataDirectory });
        var (client, user, workflow) = await SetUpAsync(one);
        var first = (await client.CreateTriggerAsync(user, workflow, new { type = "schedule", cron = "0 * * * *" }))["nextRunAt"]!.GetValue<DateTimeOffset>();
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
        var first = (await client.CreateTriggerAsync(user, workflow, new { type = "schedule", cron = "0 * * * *" }))["nextRunAt"]!.GetValue<DateTimeOffset>();

        factory.Clock.Advance(first - factory.Clock.GetUtcNow() + TimeSpan.FromHours(5) + TimeSpan.FromMinutes(10));
        await FireAsync(factory);
        await FireAsync(factory);

        user = await client.SignInAgainAsync(user);
        Assert.Equal(1, await client.CountRunsAsync(user, workflow));
        var listed = (await client.ListTriggersAsync(user, workflow)).Single()!;
        Assert.Equal(first.AddHours(5), listed["lastRunAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(first.AddHours(6), listed["nextRunAt"]!.GetValue<DateTimeOffset>());

        factory.Clock.Advance(TimeSpan.FromHours(1));
        await FireAsync(factory);
        user = await client.SignInAgainAsync(user);
        Assert.Equal(2, await client.CountRunsAsync(user, workflow));
    }

    [Fact]
    public async Task DeletedSchedule_NeverFires()
    {
        using var factory = new PlatformFactory();
        var (client, user, workflow) = await SetUpAsync(factory);
        var trigger = await client.CreateTriggerAsync(user, workflow, new { type = "schedule", cron = "0 * * * *" });
        await client.ApiDeleteAsync($"/api/v1/workflows/{workflow}/triggers/{trigger["id"]!.GetValue<string>()}", user.AccessToken);

        factory.Clock.Advance(TimeSpan.FromHours(2));
        await FireAsync(factory);

        user = await client.SignInAgainAsync(user);
        Assert.Equal(0, await client.CountRunsAsync(user, workflow));
    }

    [Fact]
    public async Task SpringForward_ASlotInTheSkippedHour_FiresAtTheEndOfTheGap()
    {
        using var factory = new PlatformFactory();
        // The next time Berlin's clocks go forward (02:00 CET → 03:00 CEST, last Sunday of March), from half past midnight.
        var change = WorkflowTriggerApi.NextOffsetChange(Berlin, factory.Clock.GetUtcNow());
        while (Berlin.GetUtcOffset(change) < Berlin.GetUtcOffset(change.AddHours(-1)))
        {
            change = WorkflowTriggerApi.NextOffsetChange(Berlin, change.AddHours(1));
        }

        factory.Clock.Advance(change.AddMinutes(-90) - factory.Clock.GetUtcNow());
        var (client, user, workflow) = await SetUpAsync(factory);

        var daily = await client.CreateTriggerAsync(user, workflow, new { type = "schedule", cron = "30 2 * * *", timezone = "Europe/Berlin" });
        var quarterly = await client.CreateTriggerAsync(user, workflow, new { type = "schedule", cron = "*/15 * * * *", timezone = "Europe/Berlin" });

        Assert.Equal(change, daily["nextRunAt"]!.GetValue<DateTimeOffset>());
        factory.Clock.Advance(change - factory.Clock.GetUtcNow() - TimeSpan.FromMinutes(1));
        await FireAsync(factory);
        user = await client.SignInAgainAsync(user);
        var beforeGap = (await client.ListTriggersAsync(user, workflow)).Single(t => t!["id"]!.GetValue<string>() == quarterly["id"]!.GetValue<string>())!;
        // 01:45 CET fired; the 02:00 … 02:45 slots do not exist and fold into one at 03:00 CEST.
        Assert.Equal(change, beforeGap["nextRunAt"]!.GetValue<DateTimeOffset>());
        factory.Clock.Advance(TimeSpan.FromMinutes(2));
        await FireAsync(factory);
        var after = (await client.ListTriggersAsync(user, workflow)).ToDictionary(t => t!["id"]!.GetValue<string>(), t => t!);
        Assert.Equal(change.AddDays(1).AddHours(-1).AddMinutes(30), after[daily["id"]!.GetValue<string>()]["nextRunAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(change.AddMinutes(15), after[quarterly["id"]!.GetValue<string>()]["nextRunAt"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task FallBack_ASlotInTheRepeatedHour_FiresOnce()
    {
        using var factory = new PlatformFactory();
        // The next time Berlin's clocks go back (03:00 CEST → 02:00 CET, last Sunday of October).
        var change = WorkflowTriggerApi.NextOffsetChange(Berlin, factory.Clock.GetUtcNow());
        while (Berlin.GetUtcOffset(change) > Berlin.GetUtcOffset(change.AddHours(-1)))
        {
            change = WorkflowTriggerApi.NextOffsetChange(Berlin, change.AddHours(1));
        }

        factory.Clock.Advance(change.AddHours(-3) - factory.Clock.GetUtcNow());
        var (client, user, workflow) = await SetUpAsync(factory);
        var trigger = await client.CreateTriggerAsync(user, workflow, new { type = "schedule", cron = "30 2 * * *", timezone = "Europe/Berlin" });

        // 02:30 happens twice; the first pass (CEST) is the slot.
        var firstPass = change.AddMinutes(-30);
        Assert.Equal(firstPass, trigger["nextRunAt"]!.GetValue<DateTimeOffset>());
        factory.Clock.Advance(firstPass - factory.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));
        await FireAsync(factory);
        factory.Clock.Advance(TimeSpan.FromHours(1));
        await FireAsync(factory);

        user = await client.SignInAgainAsync(user);
        Assert.Equal(1, await client.CountRunsAsync(user, workflow));
        // The next 02:30 is the next day's, in CET.
        Assert.Equal(change.AddDays(1).AddMinutes(30), (await client.ListTriggersAsync(user, workflow)).Single()!["nextRunAt"]!.GetValue<DateTimeOffset>());
    }
}
