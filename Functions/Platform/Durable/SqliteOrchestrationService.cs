using System.Globalization;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Newtonsoft.Json;

namespace Serverless.Functions.Platform.Durable;

/// <summary>Where and how <see cref="SqliteOrchestrationService"/> keeps its task hub.</summary>
internal sealed record SqliteOrchestrationServiceOptions
{
    /// <summary>The database file (e.g. <c>&lt;DataDirectory&gt;/durable.db</c>); its directory is created.</summary>
    public required string DatabasePath { get; init; }

    /// <summary>Orchestration episodes in flight at once; episodes are short CPU work (replay), so this bounds memory more than CPU.</summary>
    public int MaxConcurrentOrchestrations { get; init; } = 64;

    /// <summary>Activities in flight at once; activities mostly wait on I/O (model calls), so this may well exceed the core count.</summary>
    public int MaxConcurrentActivities { get; init; } = 64;

    /// <summary>How long a work item stays locked without a renewal before its messages are offered again.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// A Durable Task Framework backend for one process over one SQLite file. The file holds everything that must survive
/// the process (instances, history, queued orchestration messages with timers, queued activities); which work is
/// ready and who holds it lives in memory, rebuilt from the file on start-up (locks simply vanish with the process,
/// so every stored message is offered again). Work is handed out as soon as it is committed: a commit wakes waiting
/// <c>LockNext…</c> calls through an in-process signal and a timer wakes them for the earliest future message (durable
/// timers); nothing polls the file.
/// </summary>
internal sealed class SqliteOrchestrationService : IOrchestrationService, IOrchestrationServiceClient, IDisposable
{
    private static readonly TimeSpan MaxAbandonBackoff = TimeSpan.FromSeconds(30);

    // Instances whose history is kept in memory; enough for every instance that is between two episodes under a
    // heavy load, few enough (a few hundred kB of events) not to matter.
    private const int HistoryCacheSize = 1024;

    private readonly SqliteOrchestrationServiceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DurableStore _store;
    private readonly object _initLock = new();
    private volatile bool _initialized;
    private volatile bool _disposed;

    // The in-memory side, all guarded by _gate. An instance queue exists while it has stored messages or a lock; a
    // queue is "ready" (in _readyInstances) when it may have deliverable messages and nobody holds it.
    private readonly object _gate = new();
    private readonly Dictionary<string, InstanceQueue> _instances = new(StringComparer.Ordinal);
    private readonly Queue<InstanceQueue> _readyInstances = new();
    private readonly PriorityQueue<InstanceQueue, long> _delayedInstances = new();
    private readonly Dictionary<long, ActivityEntry> _activities = [];
    private readonly Queue<ActivityEntry> _readyActivities = new();
    private readonly PriorityQueue<ActivityEntry, long> _delayedActivities = new();
    // Waiters for an instance's end; the result is the final state, or null when only "look again" is meant.
    private readonly Dictionary<string, TaskCompletionSource<OrchestrationState?>> _finishWaiters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkedListNode<HistorySnapshot>> _histories = new(StringComparer.Ordinal);
    private readonly LinkedList<HistorySnapshot> _historyOrder = new();
    private TaskCompletionSource _orchestrationsReady = NewSignal();
    private TaskCompletionSource _activitiesReady = NewSignal();
    private ITimer? _wakeTimer;
    private long _wakeAt = long.MaxValue;
    private ITimer? _sweepTimer;

    public SqliteOrchestrationService(
        SqliteOrchestrationServiceOptions options,
        TimeProvider? timeProvider = null,
        ILogger<SqliteOrchestrationService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DatabasePath);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentOrchestrations, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentActivities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.LockTimeout, TimeSpan.Zero);
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _store = new DurableStore(options.DatabasePath, _logger);
    }

    // ---- Dispatcher tuning ----

    // Two fetchers for orchestrations: a fetch that misses the history cache reads and deserializes the instance's
    // history, and the second keeps the dispatcher fed meanwhile. An activity fetch is a dequeue from memory; one
    // fetcher keeps up.
    public int TaskOrchestrationDispatcherCount => 2;

    public int MaxConcurrentTaskOrchestrationWorkItems => _options.MaxConcurrentOrchestrations;

    public int TaskActivityDispatcherCount => 1;

    public int MaxConcurrentTaskActivityWorkItems => _options.MaxConcurrentActivities;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => BehaviorOnContinueAsNew.Carryover;

    // One transaction takes any number of messages, so an episode never has to be split.
    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) => false;

    // A failing database (disk full, file locked by another process) gets a pause; anything else is a bug in one work
    // item, which its abandon back-off already slows down without holding up the others.
    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => exception is SqliteException ? 1 : 0;

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => exception is OperationCanceledException ? 0 : 1;

    // ---- Lifecycle ----

    public Task CreateAsync() => CreateAsync(recreateInstanceStore: true);

    public Task CreateAsync(bool recreateInstanceStore) => DeleteAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync()
    {
        EnsureReady();
        return Task.CompletedTask;
    }

    public Task DeleteAsync() => DeleteAsync(deleteInstanceStore: true);

    /// <summary>Removes the queued messages and activities and, with <paramref name="deleteInstanceStore"/>, all instances and their history.</summary>
    public Task DeleteAsync(bool deleteInstanceStore)
    {
        EnsureReady();
        return _store.WriteAsync(
            connection =>
            {
                connection.DeleteAll(deleteInstanceStore);
                return 0;
            },
            _ => ClearQueues());
    }

    public Task StartAsync()
    {
        EnsureReady();
        return Task.CompletedTask;
    }

    public Task StopAsync() => StopAsync(isForced: false);

    public Task StopAsync(bool isForced)
    {
        // The dispatchers cancel their fetches themselves; waking the waiting ones lets them notice at once.
        lock (_gate)
        {
            Pulse(ref _orchestrationsReady);
            Pulse(ref _activitiesReady);
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_gate)
        {
            Pulse(ref _orchestrationsReady);
            Pulse(ref _activitiesReady);
            foreach (var waiter in _finishWaiters.Values)
            {
                waiter.TrySetResult(null);
            }

            _finishWaiters.Clear();
        }

        _wakeTimer?.Dispose();
        _sweepTimer?.Dispose();
        _store.Dispose();
    }

    // ---- Orchestration work items ----

    public async Task<TaskOrchestrationWorkItem?> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (!_disposed)
        {
            EnsureReady();
        }

        var started = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_disposed)
            {
                return await IdleUntilTimeoutAsync<TaskOrchestrationWorkItem>(receiveTimeout, cancellationToken);
            }

            SqliteOrchestrationWorkItem? claimed;
            Task ready;
            lock (_gate)
            {
                claimed = ClaimInstance(Now());
                ready = _orchestrationsReady.Task;
            }

            if (claimed is not null)
            {
                if (await PrepareAsync(claimed) is { } workItem)
                {
                    return workItem;
                }

                continue;
            }

            if (!await WaitAsync(ready, receiveTimeout - _time.GetElapsedTime(started), cancellationToken))
            {
                return null;
            }
        }

        return null;
    }

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem)
    {
        var item = (SqliteOrchestrationWorkItem)workItem;
        lock (_gate)
        {
            if (item.Queue.Lease != item)
            {
                throw new InvalidOperationException($"The lock on orchestration {item.InstanceId} was lost.");
            }

            ExtendLease(item);
        }

        return Task.CompletedTask;
    }

    public async Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage? continuedAsNewMessage,
        OrchestrationState? orchestrationState)
    {
        var item = (SqliteOrchestrationWorkItem)workItem;
        ThrowIfLeaseLost(item);
        var instanceId = item.InstanceId;

        // Everything is serialized here, on the dispatcher's thread, so the writer thread only runs SQL.
        var checkpoint = orchestrationState is not null && newOrchestrationRuntimeState.ExecutionStartedEvent is not null;
        var executionId = checkpoint ? orchestrationState!.OrchestrationInstance.ExecutionId : item.ExpectedExecutionId;
        // DTFx runs a continue-as-new within the same work item and hands over a fresh runtime state whose events are
        // all new: the stored history is replaced, not appended to.
        var replaceHistory = checkpoint && !string.Equals(executionId, item.ExpectedExecutionId, StringComparison.Ordinal);
        var historyEvents = checkpoint ? (replaceHistory ? newOrchestrationRuntimeState.Events : newOrchestrationRuntimeState.NewEvents) : [];
        var historyJson = historyEvents.Count > 0 ? DurableJson.SerializeEvents(historyEvents) : null;

        var activities = Prepare(outboundMessages);
        var toOrchestrations = Prepare(orchestratorMessages);
        var timers = Prepare(timerMessages);
        var continuation = continuedAsNewMessage is null ? null : DurableJson.SerializeMessage(continuedAsNewMessage);
        var terminal = checkpoint && IsTerminal(orchestrationState!.OrchestrationStatus);
        var failureJson = checkpoint ? DurableJson.ToPlain(orchestrationState!.FailureDetails) : null;
        var columns = replaceHistory
            ? new InstanceColumns(DurableJson.ToPlain(orchestrationState!.Tags), DurableJson.ToPlain(orchestrationState.ParentInstance))
            : null;
        var now = Now();

        await _store.WriteAsync(
            connection =>
            {
                var effects = new Effects { Completed = item };
                foreach (var message in item.Consumed)
                {
                    connection.DeleteMessage(message.Id);
                }

                // The instance was purged or re-created while this episode ran: its result belongs to nobody.
                var head = connection.ReadHead(instanceId);
                if (head is null || !string.Equals(head.ExecutionId, item.ExpectedExecutionId, StringComparison.Ordinal))
                {
                    return effects;
                }

                if (checkpoint)
                {
                    var seq = item.NextSeq;
                    if (replaceHistory)
                    {
                        connection.DeleteHistory(instanceId);
                        seq = 0;
                    }

                    if (historyJson is not null)
                    {
                        connection.InsertHistory(instanceId, executionId, seq++, historyJson);
                    }

                    connection.UpdateInstance(orchestrationState!, terminal, failureJson, columns);
                    if (terminal)
                    {
                        effects.Finished.Add(orchestrationState!);
                    }
                    else
                    {
                        effects.History = new HistorySnapshot(instanceId, executionId, seq, newOrchestrationRuntimeState.Events);
                    }
                }

                foreach (var (message, json) in activities)
                {
                    var id = connection.InsertActivity(message.OrchestrationInstance.InstanceId, now, json);
                    effects.Activities.Add(new StoredMessage(id, message.OrchestrationInstance.InstanceId, EventType.TaskScheduled, now, json));
                }

                foreach (var (message, json) in toOrchestrations)
                {
                    Enqueue(connection, effects, message, json, now);
                }

                foreach (var (message, json) in timers)
                {
                    var fireAt = message.Event is TimerFiredEvent timer ? DurableJson.Ticks(timer.FireAt) : now;
                    AddMessage(connection, effects, instanceId, executionId, message.Event.EventType, fireAt, json);
                }

                if (continuation is not null)
                {
                    AddMessage(connection, effects, instanceId, continuedAsNewMessage!.OrchestrationInstance.ExecutionId, EventType.ExecutionStarted, now, continuation);
                }

                return effects;
            },
            Apply);
    }

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        var item = (SqliteOrchestrationWorkItem)workItem;
        lock (_gate)
        {
            var queue = item.Queue;
            if (queue.Lease != item)
            {
                return Task.CompletedTask;
            }

            // The whole instance waits, not just the abandoned messages: delivering later messages first could hand
            // an event to an instance whose start message is the one that was abandoned.
            queue.Lease = null;
            queue.Abandons++;
            queue.NotBefore = Now() + Backoff(queue.Abandons).Ticks;
            Delay(queue, queue.NotBefore);
        }

        return Task.CompletedTask;
    }

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        var item = (SqliteOrchestrationWorkItem)workItem;
        lock (_gate)
        {
            ReleaseLease(item);
        }

        return Task.CompletedTask;
    }

    // ---- Activity work items ----

    public async Task<TaskActivityWorkItem?> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (!_disposed)
        {
            EnsureReady();
        }

        var started = _time.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_disposed)
            {
                return await IdleUntilTimeoutAsync<TaskActivityWorkItem>(receiveTimeout, cancellationToken);
            }

            SqliteActivityWorkItem? claimed;
            Task ready;
            lock (_gate)
            {
                claimed = ClaimActivity(Now());
                ready = _activitiesReady.Task;
            }

            if (claimed is not null)
            {
                try
                {
                    claimed.TaskMessage = DurableJson.DeserializeMessage(claimed.Entry.Json);
                    return claimed;
                }
                catch (JsonException exception)
                {
                    DurableLog.UnreadableDropped(_logger, exception, "activity", claimed.Entry.Id);
                    await DropActivityAsync(claimed);
                    continue;
                }
            }

            if (!await WaitAsync(ready, receiveTimeout - _time.GetElapsedTime(started), cancellationToken))
            {
                return null;
            }
        }

        return null;
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem)
    {
        var item = (SqliteActivityWorkItem)workItem;
        lock (_gate)
        {
            if (item.Entry.Lease != item)
            {
                throw new InvalidOperationException($"The lock on activity {item.Id} was lost.");
            }

            item.LeaseExpiresAt = Now() + _options.LockTimeout.Ticks;
            item.LockedUntilUtc = new DateTime(item.LeaseExpiresAt, DateTimeKind.Utc);
        }

        return Task.FromResult<TaskActivityWorkItem>(item);
    }

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        var item = (SqliteActivityWorkItem)workItem;
        lock (_gate)
        {
            if (item.Entry.Lease != item)
            {
                throw new InvalidOperationException($"The lock on activity {item.Id} was lost.");
            }
        }

        var json = DurableJson.SerializeMessage(responseMessage);
        var now = Now();
        await _store.WriteAsync(
            connection =>
            {
                var effects = new Effects { ActivityDone = item };
                connection.DeleteActivity(item.Entry.Id);
                Enqueue(connection, effects, responseMessage, json, now);
                return effects;
            },
            Apply);
    }

    public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        var item = (SqliteActivityWorkItem)workItem;
        lock (_gate)
        {
            var entry = item.Entry;
            if (entry.Lease != item)
            {
                return Task.CompletedTask;
            }

            entry.Lease = null;
            entry.Abandons++;
            entry.VisibleAt = Now() + Backoff(entry.Abandons).Ticks;
            _delayedActivities.Enqueue(entry, entry.VisibleAt);
            ScheduleWake(entry.VisibleAt);
        }

        return Task.CompletedTask;
    }

    // ---- Client ----

    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage) => CreateTaskOrchestrationAsync(creationMessage, null);

    /// <summary>
    /// Starts an instance. An existing instance with the same id refuses the start (<see cref="OrchestrationAlreadyExistsException"/>)
    /// when its status is one of <paramref name="dedupeStatuses"/> or, when none are given, when it is not in a terminal
    /// state; otherwise it is replaced (history, messages and all).
    /// </summary>
    public async Task CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[]? dedupeStatuses)
    {
        EnsureReady();
        ArgumentNullException.ThrowIfNull(creationMessage);
        if (creationMessage.Event is not ExecutionStartedEvent started)
        {
            throw new ArgumentException("A creation message carries an ExecutionStartedEvent.", nameof(creationMessage));
        }

        var instance = started.OrchestrationInstance ?? creationMessage.OrchestrationInstance
            ?? throw new ArgumentException("A creation message names its instance.", nameof(creationMessage));
        ArgumentException.ThrowIfNullOrWhiteSpace(instance.InstanceId);
        if (string.IsNullOrEmpty(instance.ExecutionId))
        {
            instance.ExecutionId = Guid.NewGuid().ToString("N");
        }

        started.OrchestrationInstance = instance;
        creationMessage.OrchestrationInstance = instance;
        var json = DurableJson.SerializeMessage(creationMessage);
        var now = Now();
        var visibleAt = started.ScheduledStartTime is { } at ? Math.Max(now, DurableJson.Ticks(at)) : now;

        await _store.WriteAsync(
            connection =>
            {
                var effects = new Effects();
                if (connection.ReadHead(instance.InstanceId) is { } existing)
                {
                    var refused = dedupeStatuses is { Length: > 0 } ? dedupeStatuses.Contains(existing.Status) : !IsTerminal(existing.Status);
                    if (refused)
                    {
                        throw new OrchestrationAlreadyExistsException(
                            $"An orchestration with id '{instance.InstanceId}' already exists in state {existing.Status}.");
                    }

                    DeleteInstance(connection, effects, instance.InstanceId);
                }

                connection.InsertInstance(started, now);
                effects.Created.Add(instance);
                AddMessage(connection, effects, instance.InstanceId, instance.ExecutionId, EventType.ExecutionStarted, visibleAt, json);
                return effects;
            },
            Apply);
    }

    public Task SendTaskOrchestrationMessageAsync(TaskMessage message) => SendTaskOrchestrationMessageBatchAsync(message);

    /// <summary>Queues messages (raised events, terminations, …); a message for an instance that does not exist or has ended is dropped.</summary>
    public async Task SendTaskOrchestrationMessageBatchAsync(params TaskMessage[] messages)
    {
        EnsureReady();
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Length == 0)
        {
            return;
        }

        var prepared = Prepare(messages);
        var now = Now();
        await _store.WriteAsync(
            connection =>
            {
                var effects = new Effects();
                foreach (var (message, json) in prepared)
                {
                    Enqueue(connection, effects, message, json, now);
                }

                return effects;
            },
            Apply);
    }

    public Task ForceTerminateTaskOrchestrationAsync(string instanceId, string reason) =>
        SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new ExecutionTerminatedEvent(-1, reason),
        });

    /// <summary>
    /// Waits until the instance is completed, failed or terminated and returns its state; returns <c>null</c> when
    /// <paramref name="timeout"/> passes first (<see cref="Timeout.InfiniteTimeSpan"/> or <see cref="TimeSpan.MaxValue"/>
    /// wait for ever) and throws when <paramref name="cancellationToken"/> is cancelled. Only the latest execution is
    /// kept, so an instance that continued as new is waited for to its end.
    /// </summary>
    public async Task<OrchestrationState?> WaitForOrchestrationAsync(string instanceId, string? executionId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        EnsureReady();
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        var forever = timeout == Timeout.InfiniteTimeSpan || timeout >= TimeSpan.FromDays(365);
        var started = _time.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task<OrchestrationState?> finished;
            lock (_gate)
            {
                if (!_finishWaiters.TryGetValue(instanceId, out var waiter))
                {
                    waiter = new TaskCompletionSource<OrchestrationState?>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _finishWaiters[instanceId] = waiter;
                }

                finished = waiter.Task;
            }

            var state = _store.Read(connection => connection.ReadState(instanceId));
            if (state is not null && IsTerminal(state.OrchestrationStatus))
            {
                return state;
            }

            try
            {
                // The episode that ended the instance hands its state over; anything else only says "look again".
                var final = forever
                    ? await finished.WaitAsync(cancellationToken)
                    : await finished.WaitAsync(Max(timeout - _time.GetElapsedTime(started), TimeSpan.Zero), _time, cancellationToken);
                if (final is not null)
                {
                    return final;
                }
            }
            catch (TimeoutException)
            {
                // Looked at once more: the state may have changed just as the time ran out.
                state = _store.Read(connection => connection.ReadState(instanceId));
                return state is not null && IsTerminal(state.OrchestrationStatus) ? state : null;
            }
        }
    }

    public Task<IList<OrchestrationState>> GetOrchestrationStateAsync(string instanceId, bool allExecutions)
    {
        EnsureReady();
        var state = _store.Read(connection => connection.ReadState(instanceId));
        return Task.FromResult<IList<OrchestrationState>>(state is null ? [] : [state]);
    }

    public Task<OrchestrationState?> GetOrchestrationStateAsync(string instanceId, string? executionId)
    {
        EnsureReady();
        var state = _store.Read(connection => connection.ReadState(instanceId));
        return Task.FromResult(
            state is not null && (string.IsNullOrEmpty(executionId) || executionId == state.OrchestrationInstance.ExecutionId) ? state : null);
    }

    /// <summary>The history of the instance's current execution as a JSON array of events (empty for an unknown execution).</summary>
    public Task<string> GetOrchestrationHistoryAsync(string instanceId, string? executionId)
    {
        EnsureReady();
        var (head, rows) = _store.Read(connection => (connection.ReadHead(instanceId), connection.ReadHistory(instanceId)));
        if (head is null || (!string.IsNullOrEmpty(executionId) && executionId != head.ExecutionId))
        {
            return Task.FromResult("[]");
        }

        var events = new List<HistoryEvent>();
        foreach (var row in rows)
        {
            DurableJson.DeserializeEvents(row.Json, events);
        }

        return Task.FromResult(DurableJson.ToDisplay(events));
    }

    /// <summary>Deletes the instances in a terminal state whose chosen time lies before the threshold, with their history and messages.</summary>
    public Task PurgeOrchestrationHistoryAsync(DateTime thresholdDateTimeUtc, OrchestrationStateTimeRangeFilterType timeRangeFilterType)
    {
        EnsureReady();
        var threshold = DurableJson.Ticks(thresholdDateTimeUtc);
        return _store.WriteAsync(
            connection =>
            {
                var effects = new Effects();
                foreach (var instanceId in connection.SelectPurgeable(timeRangeFilterType, threshold))
                {
                    DeleteInstance(connection, effects, instanceId);
                }

                return effects;
            },
            Apply);
    }

    // ---- Inside a write transaction (writer thread; touches only the database and the effects list) ----

    /// <summary>
    /// Queues a message for an orchestration unless its target cannot take it. A start message creates the instance (a
    /// sub-orchestration) or replaces one that has ended; a start for a running instance is refused, and its parent is
    /// told so it does not wait for ever. Anything else goes only to an instance that exists and has not ended.
    /// </summary>
    private void Enqueue(DurableConnection connection, Effects effects, TaskMessage message, string json, long now)
    {
        var instance = message.OrchestrationInstance;
        var head = connection.ReadHead(instance.InstanceId);
        if (message.Event is ExecutionStartedEvent started)
        {
            if (head is not null && !IsTerminal(head.Status))
            {
                DurableLog.MessageDropped(_logger, nameof(EventType.ExecutionStarted), instance.InstanceId, "is already running");
                if (started.ParentInstance?.OrchestrationInstance is { } parent)
                {
                    var failure = new TaskMessage
                    {
                        OrchestrationInstance = parent,
                        Event = new SubOrchestrationInstanceFailedEvent(
                            -1,
                            started.ParentInstance.TaskScheduleId,
                            $"An orchestration with id '{instance.InstanceId}' is already running.",
                            details: null,
                            new FailureDetails(nameof(OrchestrationAlreadyExistsException), $"An orchestration with id '{instance.InstanceId}' is already running.", null, null, isNonRetriable: true)),
                    };
                    Enqueue(connection, effects, failure, DurableJson.SerializeMessage(failure), now);
                }

                return;
            }

            if (head is not null)
            {
                DeleteInstance(connection, effects, instance.InstanceId);
            }

            started.OrchestrationInstance ??= instance;
            connection.InsertInstance(started, now);
            effects.Created.Add(started.OrchestrationInstance);
            var visibleAt = started.ScheduledStartTime is { } at ? Math.Max(now, DurableJson.Ticks(at)) : now;
            AddMessage(connection, effects, instance.InstanceId, started.OrchestrationInstance.ExecutionId, EventType.ExecutionStarted, visibleAt, json);
            return;
        }

        if (head is null || IsTerminal(head.Status))
        {
            DurableLog.MessageDropped(_logger, message.Event.EventType.ToString(), instance.InstanceId, head is null ? "does not exist" : "has ended");
            return;
        }

        AddMessage(connection, effects, instance.InstanceId, instance.ExecutionId, message.Event.EventType, now, json);
    }

    private static void AddMessage(DurableConnection connection, Effects effects, string instanceId, string? executionId, EventType eventType, long visibleAt, string json)
    {
        var id = connection.InsertMessage(instanceId, executionId, eventType, visibleAt, json);
        effects.Messages.Add(new StoredMessage(id, instanceId, eventType, visibleAt, json));
    }

    private static void DeleteInstance(DurableConnection connection, Effects effects, string instanceId)
    {
        var activitiesDeleted = connection.DeleteInstance(instanceId);
        effects.Deleted.Add((instanceId, activitiesDeleted > 0));
    }

    // ---- In memory (all under _gate) ----

    private void EnsureReady()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_initialized)
        {
            return;
        }

        lock (_initLock)
        {
            if (_initialized)
            {
                return;
            }

            var connection = _store.Open();
            var messages = connection.LoadMessages();
            var activities = connection.LoadActivities();
            _wakeTimer = _time.CreateTimer(_ => OnWake(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            var sweep = TimeSpan.FromTicks(Math.Clamp(_options.LockTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 30));
            _sweepTimer = _time.CreateTimer(_ => OnSweep(), null, sweep, sweep);
            lock (_gate)
            {
                foreach (var message in messages)
                {
                    AddMessage(message, Now());
                }

                foreach (var activity in activities)
                {
                    AddActivity(activity);
                }
            }

            _store.StartWriter();
            _initialized = true;
            DurableLog.Opened(_logger, _options.DatabasePath, messages.Count, activities.Count);
        }
    }

    private void Apply(Effects effects)
    {
        lock (_gate)
        {
            foreach (var (instanceId, hadActivities) in effects.Deleted)
            {
                ForgetInstance(instanceId, hadActivities);
            }

            foreach (var created in effects.Created)
            {
                RememberHistory(new HistorySnapshot(created.InstanceId, created.ExecutionId, 0, []));
            }

            if (effects.History is { } history)
            {
                RememberHistory(history);
            }

            if (effects.Completed is { } completed)
            {
                foreach (var message in completed.Consumed)
                {
                    completed.Queue.Messages.Remove(message);
                }
            }

            if (effects.ActivityDone is { } done && done.Entry.Lease == done)
            {
                done.Entry.Lease = null;
                done.Entry.Removed = true;
                _activities.Remove(done.Entry.Id);
            }

            var now = Now();
            foreach (var message in effects.Messages)
            {
                AddMessage(message, now);
            }

            foreach (var activity in effects.Activities)
            {
                AddActivity(activity);
            }

            if (effects.Completed is { } item && item.Queue.Lease == item)
            {
                item.Queue.Abandons = 0;
                ReleaseLease(item);
            }

            foreach (var state in effects.Finished)
            {
                var instanceId = state.OrchestrationInstance.InstanceId;
                ForgetHistory(instanceId);
                if (_finishWaiters.Remove(instanceId, out var waiter))
                {
                    waiter.TrySetResult(state);
                }
            }
        }
    }

    private void AddMessage(StoredMessage stored, long now)
    {
        if (!_instances.TryGetValue(stored.InstanceId, out var queue))
        {
            queue = new InstanceQueue(stored.InstanceId);
            _instances[stored.InstanceId] = queue;
        }

        queue.Messages.Add(new PendingMessage(stored.Id, stored.EventType, stored.VisibleAt, stored.Json));
        if (stored.VisibleAt <= now)
        {
            MakeReady(queue);
        }
        else
        {
            Delay(queue, stored.VisibleAt);
        }
    }

    private void AddActivity(StoredMessage stored)
    {
        var entry = new ActivityEntry(stored.Id, stored.InstanceId, stored.Json);
        _activities[entry.Id] = entry;
        MakeReady(entry);
    }

    private void ForgetInstance(string instanceId, bool hadActivities)
    {
        ForgetHistory(instanceId);
        if (_instances.TryGetValue(instanceId, out var queue))
        {
            queue.Messages.Clear();
            if (queue.Lease is null)
            {
                queue.Detached = true;
                _instances.Remove(instanceId);
            }
        }

        if (_finishWaiters.Remove(instanceId, out var waiter))
        {
            waiter.TrySetResult(null);
        }

        if (!hadActivities)
        {
            return;
        }

        // Locked activities stay: they finish, and their answer is dropped because the instance is gone.
        List<ActivityEntry>? gone = null;
        foreach (var entry in _activities.Values)
        {
            if (entry.Lease is null && string.Equals(entry.InstanceId, instanceId, StringComparison.Ordinal))
            {
                (gone ??= []).Add(entry);
            }
        }

        foreach (var entry in gone ?? [])
        {
            entry.Removed = true;
            _activities.Remove(entry.Id);
        }
    }

    private void ClearQueues()
    {
        lock (_gate)
        {
            foreach (var instanceId in _instances.Keys.ToList())
            {
                ForgetInstance(instanceId, hadActivities: false);
            }

            _readyInstances.Clear();
            _delayedInstances.Clear();
            foreach (var entry in _activities.Values.Where(entry => entry.Lease is null).ToList())
            {
                entry.Removed = true;
                _activities.Remove(entry.Id);
            }

            _readyActivities.Clear();
            _delayedActivities.Clear();
            _histories.Clear();
            _historyOrder.Clear();
        }
    }

    // The history cache: the events of recently checkpointed instances, exactly as committed, so the next episode of
    // an instance starts without reading and deserializing its history. DTFx keeps runtime states across episodes
    // the same way in its extended sessions. Least recently checkpointed instances fall out first.
    private void RememberHistory(HistorySnapshot snapshot)
    {
        if (_histories.Remove(snapshot.InstanceId, out var node))
        {
            _historyOrder.Remove(node);
        }

        _histories[snapshot.InstanceId] = _historyOrder.AddLast(snapshot);
        if (_histories.Count > HistoryCacheSize)
        {
            _histories.Remove(_historyOrder.First!.Value.InstanceId);
            _historyOrder.RemoveFirst();
        }
    }

    private void ForgetHistory(string instanceId)
    {
        if (_histories.Remove(instanceId, out var node))
        {
            _historyOrder.Remove(node);
        }
    }

    private SqliteOrchestrationWorkItem? ClaimInstance(long now)
    {
        while (_readyInstances.TryDequeue(out var queue))
        {
            queue.Ready = false;
            if (queue.Lease is not null || queue.Detached || queue.NotBefore > now)
            {
                continue;
            }

            List<PendingMessage>? batch = null;
            foreach (var message in queue.Messages)
            {
                if (message.VisibleAt <= now)
                {
                    (batch ??= []).Add(message);
                }
                else if (message.EventType == EventType.ExecutionStarted)
                {
                    // A start scheduled for later: what arrives meanwhile waits for it, or DTFx would see events for
                    // an instance without history and throw them away.
                    batch = null;
                    break;
                }
            }

            if (batch is null)
            {
                continue;
            }

            var item = new SqliteOrchestrationWorkItem(queue, [.. batch]) { InstanceId = queue.InstanceId };
            queue.Lease = item;
            ExtendLease(item);
            return item;
        }

        return null;
    }

    private SqliteActivityWorkItem? ClaimActivity(long now)
    {
        while (_readyActivities.TryDequeue(out var entry))
        {
            entry.Ready = false;
            if (entry.Removed || entry.Lease is not null || entry.VisibleAt > now)
            {
                continue;
            }

            var item = new SqliteActivityWorkItem(entry)
            {
                Id = entry.Id.ToString(CultureInfo.InvariantCulture),
                LeaseExpiresAt = now + _options.LockTimeout.Ticks,
            };
            item.LockedUntilUtc = new DateTime(item.LeaseExpiresAt, DateTimeKind.Utc);
            entry.Lease = item;
            return item;
        }

        return null;
    }

    private void ExtendLease(SqliteOrchestrationWorkItem item)
    {
        item.LeaseExpiresAt = Now() + _options.LockTimeout.Ticks;
        item.LockedUntilUtc = new DateTime(item.LeaseExpiresAt, DateTimeKind.Utc);
    }

    private void ReleaseLease(SqliteOrchestrationWorkItem item)
    {
        var queue = item.Queue;
        if (queue.Lease != item)
        {
            return;
        }

        queue.Lease = null;
        if (queue.Messages.Count == 0)
        {
            if (!queue.Detached)
            {
                queue.Detached = true;
                _instances.Remove(queue.InstanceId);
            }
        }
        else
        {
            MakeReady(queue);
        }
    }

    private void ThrowIfLeaseLost(SqliteOrchestrationWorkItem item)
    {
        lock (_gate)
        {
            if (item.Queue.Lease != item)
            {
                throw new InvalidOperationException($"The lock on orchestration {item.InstanceId} was lost.");
            }
        }
    }

    private void MakeReady(InstanceQueue queue)
    {
        if (queue.Ready || queue.Lease is not null || queue.Detached)
        {
            return;
        }

        queue.Ready = true;
        _readyInstances.Enqueue(queue);
        Pulse(ref _orchestrationsReady);
    }

    private void MakeReady(ActivityEntry entry)
    {
        if (entry.Ready || entry.Removed || entry.Lease is not null)
        {
            return;
        }

        entry.Ready = true;
        _readyActivities.Enqueue(entry);
        Pulse(ref _activitiesReady);
    }

    private void Delay(InstanceQueue queue, long until)
    {
        _delayedInstances.Enqueue(queue, until);
        ScheduleWake(until);
    }

    private void ScheduleWake(long at)
    {
        if (at >= _wakeAt || _wakeTimer is null)
        {
            return;
        }

        _wakeAt = at;
        // A millisecond late rather than early: a timer that fires before the message is due only re-arms itself.
        var due = TimeSpan.FromTicks(Math.Max(0, at - Now())) + TimeSpan.FromMilliseconds(1);
        _wakeTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void OnWake()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _wakeAt = long.MaxValue;
            var now = Now();
            while (_delayedInstances.TryPeek(out var queue, out var at) && at <= now)
            {
                _delayedInstances.Dequeue();
                if (queue.NotBefore <= now)
                {
                    MakeReady(queue);
                }
            }

            while (_delayedActivities.TryPeek(out var entry, out var at) && at <= now)
            {
                _delayedActivities.Dequeue();
                if (entry.VisibleAt <= now)
                {
                    MakeReady(entry);
                }
            }

            var next = long.MaxValue;
            if (_delayedInstances.TryPeek(out _, out var nextInstance))
            {
                next = nextInstance;
            }

            if (_delayedActivities.TryPeek(out _, out var nextActivity))
            {
                next = Math.Min(next, nextActivity);
            }

            if (next != long.MaxValue)
            {
                ScheduleWake(next);
            }
        }
    }

    // Locks are renewed by the dispatchers while they work; one that is not renewed in time belongs to a work item
    // that was lost without an abandon, and its messages are offered again.
    private void OnSweep()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var now = Now();
            foreach (var queue in _instances.Values.Where(queue => queue.Lease is { } lease && lease.LeaseExpiresAt <= now).ToList())
            {
                DurableLog.LockExpired(_logger, "orchestration", queue.InstanceId, _options.LockTimeout);
                ReleaseLease(queue.Lease!);
            }

            foreach (var entry in _activities.Values.Where(entry => entry.Lease is { } lease && lease.LeaseExpiresAt <= now).ToList())
            {
                DurableLog.LockExpired(_logger, "activity", entry.Id.ToString(CultureInfo.InvariantCulture), _options.LockTimeout);
                entry.Lease = null;
                MakeReady(entry);
            }
        }
    }

    // ---- Helpers ----

    /// <summary>Builds the work item of a claimed instance: its history from the file and its messages.</summary>
    private async Task<SqliteOrchestrationWorkItem?> PrepareAsync(SqliteOrchestrationWorkItem item)
    {
        HistorySnapshot? snapshot;
        lock (_gate)
        {
            snapshot = _histories.TryGetValue(item.InstanceId, out var node) ? node.Value : null;
        }

        if (snapshot is null)
        {
            InstanceHead? head;
            List<(long Seq, string Json)> rows;
            try
            {
                (head, rows) = _store.Read(connection => (connection.ReadHead(item.InstanceId), connection.ReadHistory(item.InstanceId)));
            }
            catch
            {
                await AbandonTaskOrchestrationWorkItemAsync(item);
                throw;
            }

            if (head is null || IsTerminal(head.Status))
            {
                foreach (var message in item.Consumed)
                {
                    DurableLog.MessageDropped(_logger, message.EventType.ToString(), item.InstanceId, head is null ? "does not exist" : "has ended");
                }

                await DropMessagesAsync(item);
                return null;
            }

            var events = new List<HistoryEvent>();
            try
            {
                foreach (var row in rows)
                {
                    DurableJson.DeserializeEvents(row.Json, events);
                }
            }
            catch
            {
                await AbandonTaskOrchestrationWorkItemAsync(item);
                throw;
            }

            snapshot = new HistorySnapshot(item.InstanceId, head.ExecutionId, rows.Count == 0 ? 0 : rows[^1].Seq + 1, events);
        }

        var messages = new List<TaskMessage>(item.Consumed.Length);
        foreach (var message in item.Consumed)
        {
            try
            {
                messages.Add(DurableJson.DeserializeMessage(message.Json));
            }
            catch (JsonException exception)
            {
                // Completing the work item deletes it with the rest.
                DurableLog.UnreadableDropped(_logger, exception, "message", message.Id);
            }
        }

        if (messages.Count == 0)
        {
            await DropMessagesAsync(item);
            return null;
        }

        item.ExpectedExecutionId = snapshot.ExecutionId;
        item.NextSeq = snapshot.NextSeq;
        item.OrchestrationRuntimeState = new OrchestrationRuntimeState(snapshot.Events);
        item.NewMessages = messages;
        return item;
    }

    private Task DropMessagesAsync(SqliteOrchestrationWorkItem item) =>
        _store.WriteAsync(
            connection =>
            {
                foreach (var message in item.Consumed)
                {
                    connection.DeleteMessage(message.Id);
                }

                return new Effects { Completed = item };
            },
            Apply);

    private Task DropActivityAsync(SqliteActivityWorkItem item) =>
        _store.WriteAsync(
            connection =>
            {
                connection.DeleteActivity(item.Entry.Id);
                return new Effects { ActivityDone = item };
            },
            Apply);

    /// <summary>Waits for a signal; false when the time ran out or the fetch was cancelled.</summary>
    private async Task<bool> WaitAsync(Task signal, TimeSpan remaining, CancellationToken cancellationToken)
    {
        if (remaining <= TimeSpan.Zero)
        {
            return false;
        }

        try
        {
            await signal.WaitAsync(remaining, _time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    // A disposed service answers "nothing to do" only after the usual wait, so a dispatcher still running does not spin.
    private async Task<T?> IdleUntilTimeoutAsync<T>(TimeSpan receiveTimeout, CancellationToken cancellationToken) where T : class
    {
        try
        {
            await Task.Delay(receiveTimeout, _time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        return null;
    }

    private static List<(TaskMessage Message, string Json)> Prepare(IEnumerable<TaskMessage>? messages)
    {
        var prepared = new List<(TaskMessage, string)>();
        foreach (var message in messages ?? [])
        {
            prepared.Add((message, DurableJson.SerializeMessage(message)));
        }

        return prepared;
    }

    private static bool IsTerminal(OrchestrationStatus status) => status is OrchestrationStatus.Completed
        or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    private static TimeSpan Backoff(int abandons) =>
        TimeSpan.FromTicks(Math.Min(MaxAbandonBackoff.Ticks, TimeSpan.TicksPerSecond << Math.Min(abandons - 1, 10)));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static void Pulse(ref TaskCompletionSource signal)
    {
        var fired = signal;
        signal = NewSignal();
        fired.TrySetResult();
    }

    private long Now() => _time.GetUtcNow().UtcTicks;

    /// <summary>What a committed write changes in memory, applied in commit order.</summary>
    private sealed class Effects
    {
        public List<StoredMessage> Messages { get; } = [];

        public List<StoredMessage> Activities { get; } = [];

        /// <summary>Deleted instances, and whether activities of theirs were deleted with them.</summary>
        public List<(string InstanceId, bool HadActivities)> Deleted { get; } = [];

        public List<OrchestrationState> Finished { get; } = [];

        public List<OrchestrationInstance> Created { get; } = [];

        public HistorySnapshot? History { get; set; }

        public SqliteOrchestrationWorkItem? Completed { get; init; }

        public SqliteActivityWorkItem? ActivityDone { get; init; }
    }

    private sealed class InstanceQueue(string instanceId)
    {
        public string InstanceId { get; } = instanceId;

        public List<PendingMessage> Messages { get; } = [];

        public SqliteOrchestrationWorkItem? Lease { get; set; }

        public bool Ready { get; set; }

        /// <summary>No longer in the instance table (nothing stored, nobody holding it); a new queue takes its place.</summary>
        public bool Detached { get; set; }

        public long NotBefore { get; set; }

        public int Abandons { get; set; }
    }

    private sealed record PendingMessage(long Id, EventType EventType, long VisibleAt, string Json);

    /// <summary>An instance's committed history: its execution, the next history row and the events.</summary>
    private sealed record HistorySnapshot(string InstanceId, string ExecutionId, long NextSeq, IList<HistoryEvent> Events);

    private sealed class ActivityEntry(long id, string instanceId, string json)
    {
        public long Id { get; } = id;

        public string InstanceId { get; } = instanceId;

        public string Json { get; } = json;

        public long VisibleAt { get; set; }

        public SqliteActivityWorkItem? Lease { get; set; }

        public bool Ready { get; set; }

        public bool Removed { get; set; }

        public int Abandons { get; set; }
    }

    private sealed class SqliteOrchestrationWorkItem(InstanceQueue queue, PendingMessage[] consumed) : TaskOrchestrationWorkItem
    {
        public InstanceQueue Queue { get; } = queue;

        /// <summary>Exactly the messages this work item delivers, and so deletes when it completes.</summary>
        public PendingMessage[] Consumed { get; } = consumed;

        /// <summary>The execution stored when the work item was claimed; completing checks it is still the one.</summary>
        public string ExpectedExecutionId { get; set; } = string.Empty;

        public long NextSeq { get; set; }

        public long LeaseExpiresAt { get; set; }
    }

    private sealed class SqliteActivityWorkItem(ActivityEntry entry) : TaskActivityWorkItem
    {
        public ActivityEntry Entry { get; } = entry;

        public long LeaseExpiresAt { get; set; }
    }
}
