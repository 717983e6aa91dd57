using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using Microsoft.DurableTask;
using Serverless.Functions.Platform.Durable;
using CoreOrchestrationStatus = DurableTask.Core.OrchestrationStatus;

namespace Serverless.Functions.Tests.Platform.Durable;

/// <summary>
/// The SQLite task hub under a real <see cref="TaskHubWorker"/> and <see cref="TaskHubClient"/>, running
/// Microsoft.DurableTask orchestrators and activities through <see cref="ShimCatalog"/>. Each test owns a directory
/// with its own database; "restarting" disposes the worker and the service and opens new ones on the same file.
/// </summary>
public sealed class SqliteOrchestrationServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(8);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "durable-tests-" + Guid.NewGuid().ToString("N"));
    private readonly List<Host> _hosts = [];

    private string DatabasePath => Path.Combine(_directory, "durable.db");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task ActivityChain_PassesEachResultToTheNextStep()
    {
        var host = await StartAsync(Catalog());

        var state = await RunAsync(host, nameof(Chain), "go");

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("go!!!", Output<string>(state));
    }

    [Fact]
    public async Task FanOutFanIn_OfTwentyActivities_SumsAllResults()
    {
        var host = await StartAsync(Catalog());

        var state = await RunAsync(host, nameof(FanOut), 20);

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal(Enumerable.Range(1, 20).Sum(i => i * i), Output<int>(state));
    }

    [Fact]
    public async Task DurableTimer_FiresAfterItsDueTime()
    {
        var host = await StartAsync(Catalog());
        var stopwatch = Stopwatch.StartNew();

        var state = await RunAsync(host, nameof(Sleep), 200);

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("woke", Output<string>(state));
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(200), Patience);
    }

    [Fact]
    public async Task ExternalEvent_RaisedThroughTheClient_ResumesTheWaitingOrchestration()
    {
        var host = await StartAsync(Catalog());
        var instance = await host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "order-1", "order-1");
        await WhenAsync(host, instance.InstanceId, state => state.Status == Json("waiting"));

        await host.Client.RaiseEventAsync(instance, "approve", "alice");
        var state = await host.Client.WaitForOrchestrationAsync(instance, Patience);

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("order-1 approved by alice", Output<string>(state));
    }

    [Fact]
    public async Task CustomStatus_IsReadableWhileTheOrchestrationWaits()
    {
        var host = await StartAsync(Catalog());
        var instance = await host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "order-2", "order-2");

        var waiting = await WhenAsync(host, instance.InstanceId, state => state.Status is not null);

        Assert.Equal(CoreOrchestrationStatus.Running, waiting.OrchestrationStatus);
        Assert.Equal(Json("waiting"), waiting.Status);
        Assert.Equal(Json("order-2"), waiting.Input);
        Assert.Equal(nameof(Approval), waiting.Name);
    }

    [Fact]
    public async Task SubOrchestration_ResultReachesTheParent_AndTheChildIsAnInstanceOfItsOwn()
    {
        var host = await StartAsync(Catalog());

        var state = await RunAsync(host, nameof(Parent), 4, instanceId: "parent-1");

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal(1 + 4 + 9 + 16 + 1000, Output<int>(state));
        var child = await host.Client.GetOrchestrationStateAsync("parent-1-child");
        Assert.NotNull(child);
        Assert.Equal(CoreOrchestrationStatus.Completed, child.OrchestrationStatus);
        Assert.Equal(nameof(FanOut), child.Name);
        Assert.Equal("parent-1", child.ParentInstance?.OrchestrationInstance.InstanceId);
    }

    [Fact]
    public async Task ThrowingActivity_WithARetryPolicy_IsRetriedUntilItSucceeds()
    {
        var attempts = new ConcurrentDictionary<string, int>();
        var host = await StartAsync(Catalog(attempts));

        var state = await RunAsync(host, nameof(Retrying), "flaky-3");

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("flaky-3 on attempt 3", Output<string>(state));
        Assert.Equal(3, attempts["flaky-3"]);
    }

    [Fact]
    public async Task ThrowingActivity_ThatExhaustsItsRetries_FailsTheOrchestration()
    {
        var attempts = new ConcurrentDictionary<string, int>();
        var host = await StartAsync(Catalog(attempts));

        var state = await RunAsync(host, nameof(Retrying), "flaky-9");

        Assert.Equal(CoreOrchestrationStatus.Failed, state.OrchestrationStatus);
        Assert.Equal(3, attempts["flaky-9"]);
        Assert.Contains("attempt 3 failed", state.FailureDetails?.ErrorMessage ?? state.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Terminate_EndsAWaitingOrchestration()
    {
        var host = await StartAsync(Catalog());
        var instance = await host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "order-3", "order-3");
        await WhenAsync(host, instance.InstanceId, state => state.Status is not null);

        await host.Client.TerminateInstanceAsync(instance, "cancelled by the customer");
        var state = await host.Client.WaitForOrchestrationAsync(instance, Patience);

        Assert.Equal(CoreOrchestrationStatus.Terminated, state.OrchestrationStatus);
        Assert.Contains("cancelled by the customer", state.Output, StringComparison.Ordinal);
        // A terminated instance takes no more messages.
        await host.Client.RaiseEventAsync(instance, "approve", "too late");
        Assert.Equal(CoreOrchestrationStatus.Terminated, (await host.Client.GetOrchestrationStateAsync("order-3"))!.OrchestrationStatus);
    }

    [Fact]
    public async Task Create_WithTheIdOfARunningInstance_IsRefused_AndOfAnEndedOne_StartsAfresh()
    {
        var host = await StartAsync(Catalog());
        var first = await host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "dup", "first");

        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() =>
            host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "dup", "second"));

        await host.Client.RaiseEventAsync(first, "approve", "alice");
        Assert.Equal(CoreOrchestrationStatus.Completed, (await host.Client.WaitForOrchestrationAsync(first, Patience)).OrchestrationStatus);
        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => host.Client.CreateOrchestrationInstanceAsync(
            nameof(Approval), string.Empty, "dup", "second", tags: null, dedupeStatuses: [CoreOrchestrationStatus.Completed]));

        var second = await host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "dup", "second");
        await WhenAsync(host, "dup", state => state.Status is not null && state.OrchestrationInstance.ExecutionId == second.ExecutionId);
        await host.Client.RaiseEventAsync(second, "approve", "bob");
        var state = await host.Client.WaitForOrchestrationAsync(second, Patience);

        Assert.Equal(second.ExecutionId, state.OrchestrationInstance.ExecutionId);
        Assert.Equal("second approved by bob", Output<string>(state));
    }

    [Fact]
    public async Task Restart_WhileAnActivityRuns_RunsTheActivityAgainAndCompletes()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var first = await StartAsync(Catalog(work: () => new HangingWork(started, never.Task)));
            var instance = await first.Client.CreateOrchestrationInstanceAsync(nameof(Journey), string.Empty, "journey-1", "trip");
            await started.Task.WaitAsync(Patience);

            await first.DisposeAsync();
            var second = await StartAsync(Catalog());
            await WhenAsync(second, instance.InstanceId, state => state.Status == Json("sleeping"));
            await second.Client.RaiseEventAsync(new OrchestrationInstance { InstanceId = instance.InstanceId }, "go", "now");
            var state = await second.Client.WaitForOrchestrationAsync(instance, Patience);

            Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
            Assert.Equal("worked on trip|now", Output<string>(state));
        }
        finally
        {
            // The first worker's activity is still parked; let it end (its answer goes to a disposed service).
            never.TrySetResult();
        }
    }

    [Fact]
    public async Task Restart_WhileATimerIsPending_FiresTheStoredTimer()
    {
        var first = await StartAsync(Catalog());
        var instance = await first.Client.CreateOrchestrationInstanceAsync(nameof(Journey), string.Empty, "journey-2", "trip");
        await WhenAsync(first, instance.InstanceId, state => state.Status == Json("sleeping"));

        await first.DisposeAsync();
        var second = await StartAsync(Catalog());
        await WhenAsync(second, instance.InstanceId, state => state.Status == Json("waiting"));
        await second.Client.RaiseEventAsync(new OrchestrationInstance { InstanceId = instance.InstanceId }, "go", "later");
        var state = await second.Client.WaitForOrchestrationAsync(instance, Patience);

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("worked on trip|later", Output<string>(state));
    }

    [Fact]
    public async Task Restart_WithAnEventRaisedWhileNoWorkerRuns_DeliversTheStoredEvent()
    {
        var first = await StartAsync(Catalog());
        var instance = await first.Client.CreateOrchestrationInstanceAsync(nameof(Journey), string.Empty, "journey-3", "trip");
        await WhenAsync(first, instance.InstanceId, state => state.Status == Json("waiting"));
        await first.StopWorkerAsync();

        await first.Client.RaiseEventAsync(instance, "go", "while stopped");
        await first.DisposeAsync();
        var second = await StartAsync(Catalog());
        var state = await second.Client.WaitForOrchestrationAsync(instance, Patience);

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("worked on trip|while stopped", Output<string>(state));
        Assert.Contains("EventRaised", await second.Client.GetOrchestrationHistoryAsync(instance), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_RemovesEndedInstancesBeforeTheThreshold_AndKeepsRunningOnes()
    {
        var host = await StartAsync(Catalog());
        var done = await RunAsync(host, nameof(Chain), "x", instanceId: "done");
        var running = await host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "running", "r");
        await WhenAsync(host, running.InstanceId, state => state.Status is not null);

        await host.Service.PurgeOrchestrationHistoryAsync(DateTime.UtcNow.AddMinutes(1), OrchestrationStateTimeRangeFilterType.OrchestrationCompletedTimeFilter);

        Assert.Equal(CoreOrchestrationStatus.Completed, done.OrchestrationStatus);
        Assert.Null(await host.Client.GetOrchestrationStateAsync("done"));
        Assert.Equal("[]", await host.Service.GetOrchestrationHistoryAsync("done", null));
        Assert.Equal(CoreOrchestrationStatus.Running, (await host.Client.GetOrchestrationStateAsync("running"))!.OrchestrationStatus);
    }

    [Fact]
    public async Task ContinueAsNew_StartsTheNextExecution_AndKeepsOnlyItsHistory()
    {
        var host = await StartAsync(Catalog());

        var state = await RunAsync(host, nameof(Countdown), 3, instanceId: "countdown");

        Assert.Equal(CoreOrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("lift-off", Output<string>(state));
        Assert.Equal(Json(0), state.Input);
        var history = await host.Service.GetOrchestrationHistoryAsync("countdown", null);
        Assert.Single(JsonDocument.Parse(history).RootElement.EnumerateArray(), e => e.GetProperty("EventType").GetString() == "ExecutionStarted");
    }

    [Fact]
    public async Task LockedInstance_GetsNoSecondWorkItem_AndWhatArrivesMeanwhileComesWithTheNext()
    {
        using var service = OpenService();
        var client = new TaskHubClient(service);
        var instance = await client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "locked", "locked");
        var first = await service.LockNextTaskOrchestrationWorkItemAsync(Patience, CancellationToken.None);
        Assert.NotNull(first);

        await client.RaiseEventAsync(instance, "approve", "alice");
        var whileLocked = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        await service.ReleaseTaskOrchestrationWorkItemAsync(first);
        var second = await service.LockNextTaskOrchestrationWorkItemAsync(Patience, CancellationToken.None);

        Assert.Null(whileLocked);
        Assert.NotNull(second);
        Assert.Equal("locked", first.InstanceId);
        Assert.Equal([EventType.ExecutionStarted], first.NewMessages.Select(message => message.Event.EventType));
        Assert.Equal("locked", second.InstanceId);
        Assert.Equal([EventType.ExecutionStarted, EventType.EventRaised], second.NewMessages.Select(message => message.Event.EventType));
    }

    [Fact]
    public async Task ExpiredLock_OffersTheMessagesAgain_AndTheOldHolderCannotRenew()
    {
        using var service = OpenService(lockTimeout: TimeSpan.FromMilliseconds(300));
        await new TaskHubClient(service).CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "expiring", "expiring");
        var first = await service.LockNextTaskOrchestrationWorkItemAsync(Patience, CancellationToken.None);
        Assert.NotNull(first);
        var stopwatch = Stopwatch.StartNew();

        var second = await service.LockNextTaskOrchestrationWorkItemAsync(Patience, CancellationToken.None);

        Assert.NotNull(second);
        Assert.Equal("expiring", second.InstanceId);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(200), Patience);
        await Assert.ThrowsAsync<InvalidOperationException>(() => service.RenewTaskOrchestrationWorkItemLockAsync(first));
    }

    [Fact]
    public async Task AbandonedWorkItem_IsOfferedAgainAfterABackoff()
    {
        using var service = OpenService();
        await new TaskHubClient(service).CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "abandoned", "abandoned");
        var first = await service.LockNextTaskOrchestrationWorkItemAsync(Patience, CancellationToken.None);
        Assert.NotNull(first);
        var stopwatch = Stopwatch.StartNew();

        await service.AbandonTaskOrchestrationWorkItemAsync(first);
        var again = await service.LockNextTaskOrchestrationWorkItemAsync(Patience, CancellationToken.None);

        Assert.NotNull(again);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(900), Patience);
        Assert.Equal([EventType.ExecutionStarted], again.NewMessages.Select(message => message.Event.EventType));
    }

    [Fact]
    public async Task WaitForOrchestration_ThatDoesNotEndInTime_ReturnsNull()
    {
        var host = await StartAsync(Catalog());
        var instance = await host.Client.CreateOrchestrationInstanceAsync(nameof(Approval), string.Empty, "slow", "slow");

        var state = await host.Client.WaitForOrchestrationAsync(instance, TimeSpan.FromMilliseconds(100));

        Assert.Null(state);
    }

    // ---- Plumbing ----

    private SqliteOrchestrationService OpenService(TimeSpan? lockTimeout = null) => new(new SqliteOrchestrationServiceOptions
    {
        DatabasePath = DatabasePath,
        LockTimeout = lockTimeout ?? TimeSpan.FromMinutes(5),
    });

    private async Task<Host> StartAsync(ShimCatalog catalog)
    {
        var service = OpenService();
        await service.CreateIfNotExistsAsync();
        var worker = new TaskHubWorker(service);
        catalog.Register(worker);
        await worker.StartAsync();
        var host = new Host(service, worker, new TaskHubClient(service));
        _hosts.Add(host);
        return host;
    }

    private static async Task<OrchestrationState> RunAsync(Host host, string name, object input, string? instanceId = null)
    {
        var instance = await host.Client.CreateOrchestrationInstanceAsync(name, string.Empty, instanceId, input);
        var state = await host.Client.WaitForOrchestrationAsync(instance, Patience);
        Assert.True(state is not null, $"{name} did not end within {Patience}.");
        return state;
    }

    // Polls the stored state (the client API has no "wait for status") until it satisfies the condition.
    private static async Task<OrchestrationState> WhenAsync(Host host, string instanceId, Func<OrchestrationState, bool> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (await host.Client.GetOrchestrationStateAsync(instanceId) is { } state && condition(state))
            {
                return state;
            }

            Assert.True(stopwatch.Elapsed < Patience, $"{instanceId} did not reach the expected state within {Patience}.");
            await Task.Delay(10);
        }
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);

    private static T Output<T>(OrchestrationState state) => JsonSerializer.Deserialize<T>(state.Output)!;

    private static ShimCatalog Catalog(ConcurrentDictionary<string, int>? attempts = null, Func<ITaskActivity>? work = null) => new ShimCatalog()
        .AddOrchestrator<Chain>()
        .AddOrchestrator<FanOut>()
        .AddOrchestrator<Sleep>()
        .AddOrchestrator<Approval>()
        .AddOrchestrator<Parent>()
        .AddOrchestrator<Retrying>()
        .AddOrchestrator<Journey>()
        .AddOrchestrator<Countdown>()
        .AddActivity<Exclaim>()
        .AddActivity<Square>()
        .AddActivity(nameof(Flaky), () => new Flaky(attempts ?? new ConcurrentDictionary<string, int>()))
        .AddActivity("Work", work ?? (() => new Work()));

    private sealed class Host(SqliteOrchestrationService service, TaskHubWorker worker, TaskHubClient client) : IAsyncDisposable
    {
        private bool _workerStopped;
        private bool _disposed;

        public SqliteOrchestrationService Service { get; } = service;

        public TaskHubClient Client { get; } = client;

        public async Task StopWorkerAsync()
        {
            if (!_workerStopped)
            {
                _workerStopped = true;
                // Forced: a graceful stop waits for in-flight work in one-second steps.
                await worker.StopAsync(isForced: true);
                worker.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_disposed)
            {
                _disposed = true;
                await StopWorkerAsync();
                Service.Dispose();
            }
        }
    }

    // ---- Orchestrations and activities ----

    private sealed class Chain : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            var value = input;
            for (var i = 0; i < 3; i++)
            {
                value = await context.CallActivityAsync<string>(nameof(Exclaim), value);
            }

            return value;
        }
    }

    private sealed class FanOut : TaskOrchestrator<int, int>
    {
        public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
        {
            var squares = await Task.WhenAll(Enumerable.Range(1, input).Select(i => context.CallActivityAsync<int>(nameof(Square), i)));
            return squares.Sum();
        }
    }

    private sealed class Sleep : TaskOrchestrator<int, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, int input)
        {
            await context.CreateTimer(context.CurrentUtcDateTime.AddMilliseconds(input), CancellationToken.None);
            return "woke";
        }
    }

    private sealed class Approval : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            context.SetCustomStatus("waiting");
            var approver = await context.WaitForExternalEvent<string>("approve");
            return $"{input} approved by {approver}";
        }
    }

    private sealed class Parent : TaskOrchestrator<int, int>
    {
        public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
        {
            var options = new SubOrchestrationOptions { InstanceId = $"{context.InstanceId}-child" };
            return await context.CallSubOrchestratorAsync<int>(nameof(FanOut), input, options) + 1000;
        }
    }

    private sealed class Retrying : TaskOrchestrator<string, string>
    {
        public override Task<string> RunAsync(TaskOrchestrationContext context, string input) =>
            context.CallActivityAsync<string>(nameof(Flaky), input, TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromMilliseconds(50))));
    }

    /// <summary>One activity, a timer and an external event: the three kinds of waiting a restart must survive.</summary>
    private sealed class Journey : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            var worked = await context.CallActivityAsync<string>("Work", input);
            context.SetCustomStatus("sleeping");
            await context.CreateTimer(context.CurrentUtcDateTime.AddMilliseconds(300), CancellationToken.None);
            context.SetCustomStatus("waiting");
            var go = await context.WaitForExternalEvent<string>("go");
            return $"{worked}|{go}";
        }
    }

    private sealed class Countdown : TaskOrchestrator<int, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, int input)
        {
            if (input == 0)
            {
                return "lift-off";
            }

            await context.CallActivityAsync<int>(nameof(Square), input);
            context.ContinueAsNew(input - 1);
            return string.Empty;
        }
    }

    private sealed class Exclaim : Microsoft.DurableTask.TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult(input + "!");
    }

    private sealed class Square : Microsoft.DurableTask.TaskActivity<int, int>
    {
        public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input * input);
    }

    /// <summary>Fails until the attempt named by the input's number ("flaky-3" succeeds on the third call).</summary>
    private sealed class Flaky(ConcurrentDictionary<string, int> attempts) : Microsoft.DurableTask.TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input)
        {
            var attempt = attempts.AddOrUpdate(input, 1, (_, count) => count + 1);
            var succeedsOn = int.Parse(input.Split('-')[1], System.Globalization.CultureInfo.InvariantCulture);
            return attempt >= succeedsOn
                ? Task.FromResult($"{input} on attempt {attempt}")
                : throw new InvalidOperationException($"attempt {attempt} failed");
        }
    }

    private sealed class Work : Microsoft.DurableTask.TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult("worked on " + input);
    }

    private sealed class HangingWork(TaskCompletionSource started, Task release) : Microsoft.DurableTask.TaskActivity<string, string>
    {
        public override async Task<string> RunAsync(TaskActivityContext context, string input)
        {
            started.TrySetResult();
            await release;
            return "hung on " + input;
        }
    }
}
