using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Orchestrations.Runtime;

/// <summary>
/// The Durable Task orchestration of one run: it interprets the run's graph. Instant nodes and nodes that only decide
/// what to wait for run here (deterministically, no round trip); nodes with effects are activities; a delay is a
/// durable timer, a review an external event, child runs are sub-orchestrations, and parallel branches are tasks
/// awaited together. The same class runs under Durable Functions and standalone on the Durable Task Framework.
/// </summary>
public sealed class WorkflowOrchestrator(NodeRegistry registry) : TaskOrchestrator<RunInput, RunOutcome>
{
    /// <inheritdoc />
    public override Task<RunOutcome> RunAsync(TaskOrchestrationContext context, RunInput input) =>
        new OrchestratedRun(context, registry, input).RunAsync();
}

/// <summary>
/// One execution of <see cref="WorkflowOrchestrator"/>. Obeys Durable Task's rules: time only from the context, no I/O,
/// ids or configuration reads; everything else happens in activities, whose results replay.
/// </summary>
internal sealed class OrchestratedRun
{
    // Activities that only touch our own store are retried a few times before the run gives up on them.
    private static readonly TaskOptions StoreRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(30)));

    private readonly TaskOrchestrationContext _context;
    private readonly NodeRegistry _registry;
    private readonly RunInput _input;
    private readonly ExecutionDocument _doc;
    private readonly StateMachine _machine;
    private readonly TimeProvider _clock;
    private readonly Dictionary<Task, Pending> _inflight = [];
    private readonly Dictionary<string, long> _nodeVersions = new(StringComparer.Ordinal);
    private readonly List<long> _eventVersions = [];
    private readonly HashSet<string> _eventWaits = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _timers = new();
    private long _version;
    private long _confirmed;
    private long _handed;

    public OrchestratedRun(TaskOrchestrationContext context, NodeRegistry registry, RunInput input)
    {
        _context = context;
        _registry = registry;
        _input = input;
        _doc = input.Run;
        _doc.EventSeq = _doc.OrchestratorSeq;
        _doc.PendingEvents = [];
        _version = _confirmed = _handed = _doc.Checkpoint;
        _clock = new OrchestrationClock(context);
        _machine = new StateMachine(registry, _clock);
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    public async Task<RunOutcome> RunAsync()
    {
        var stop = _context.WaitForExternalEvent<StopSignal>(RunTasks.StopEvent);
        if (!_input.Admitted && await WaitForSlotAsync(stop) is { } stoppedWhileQueued)
        {
            await StepAsync(tx => End(tx, stoppedWhileQueued));
            return await EndAsync();
        }

        await StepAsync(tx =>
        {
            if (!_input.Resume)
            {
                return _machine.StartAsync(tx);
            }

            StateMachine.ResetInterrupted(tx.Doc);
            return _machine.CascadeAsync(tx);
        });
        Task? deadline = _doc.Definition.TimeoutSeconds is { } limit
            ? _context.CreateTimer((_doc.StartedAt ?? Now).UtcDateTime.AddSeconds(limit), _timers.Token)
            : null;
        while (!ExecutionStatus.IsTerminal(_doc.Status))
        {
            FlushIfNeeded();
            var waitingOn = new List<Task>(_inflight.Keys) { stop };
            if (deadline is not null)
            {
                waitingOn.Add(deadline);
            }

            var done = await Task.WhenAny(waitingOn);
            if (done == stop)
            {
                await StepAsync(tx => End(tx, stop.Result));
            }
            else if (done == deadline)
            {
                await StepAsync(tx => End(tx, new StopSignal(ExecutionStatus.TimedOut, "RUN_TIMEOUT", $"The run exceeded its timeout of {_doc.Definition.TimeoutSeconds} s.")));
            }
            else
            {
                var pending = _inflight[done];
                _inflight.Remove(done);
                await HandleAsync(pending, done);
            }
        }

        _timers.Cancel();
        return await EndAsync();
    }

    private async Task<StopSignal?> WaitForSlotAsync(Task<StopSignal> stop)
    {
        while (!await _context.CallActivityAsync<bool>(RunTasks.AdmitRun, _doc.Id, StoreRetry))
        {
            // A freed slot raises "admitted"; the timer covers a promotion lost to a crash.
            var admitted = _context.WaitForExternalEvent<JsonObject?>(RunTasks.AdmittedEvent);
            using var poll = new CancellationTokenSource();
            var timer = _context.CreateTimer(_context.CurrentUtcDateTime.AddSeconds(30), poll.Token);
            var woke = await Task.WhenAny(admitted, timer, stop);
            poll.Cancel();
            if (woke == stop)
            {
                return stop.Result;
            }
        }

        return null;
    }

    private ValueTask End(Transaction tx, StopSignal signal)
    {
        if (!ExecutionStatus.IsTerminal(tx.Doc.Status))
        {
            _machine.EndUnsuccessfully(tx, signal.Status, new RunError(signal.Code, signal.Reason, null));
        }

        return ValueTask.CompletedTask;
    }

    private async Task<RunOutcome> EndAsync()
    {
        var outcome = await _context.CallActivityAsync<RunOutcome>(RunTasks.EndRun, Checkpoint(), StoreRetry);
        return outcome;
    }

    private async Task HandleAsync(Pending pending, Task done)
    {
        if (pending.Kind == PendingKind.Save)
        {
            Confirm(await (Task<long>)done);
            return;
        }

        var state = _doc.Nodes[pending.NodeId];
        switch (pending.Kind)
        {
            case PendingKind.Attempt:
                NodeAttemptResult result;
                try
                {
                    result = await (Task<NodeAttemptResult>)done;
                    Confirm(result.Checkpoint);
                }
                catch (TaskFailedException failed)
                {
                    result = new NodeAttemptResult(NodeOutcome.Failed, null, null, null,
                        new NodeError("NODE_ERROR", failed.FailureDetails.ErrorMessage, Retryable: true), 0);
                }

                if (result.Abandoned)
                {
                    // The run ended outside the orchestration (a stop whose signal may never come): end here as well.
                    await StepAsync(tx => End(tx, new StopSignal(ExecutionStatus.Cancelled, "CANCELLED", "The run ended outside its orchestration.")));
                }
                else if (state.Status == NodeStatus.Running && state.Attempts == pending.Attempt)
                {
                    var outcome = result.Outcome == NodeOutcome.Waiting
                        ? NodeResult.Fail("NODE_ERROR", $"Node type {_doc.NodeDefinition(pending.NodeId).Type} runs as an activity and cannot wait.", retryable: false)
                        : result.ToResult();
                    await StepAsync(tx => _machine.ApplyAsync(tx, pending.NodeId, outcome, instant: false));
                }

                break;
            case PendingKind.RetryTimer:
                if (state.Status == NodeStatus.Scheduled && state.Attempts == pending.Attempt - 1 && !RearmedEarly(pending))
                {
                    await StartAttemptAsync(pending.NodeId, pending.Attempt);
                }

                break;
            case PendingKind.WaitTimer:
                if (state is { Status: NodeStatus.Waiting, Wait.Until: not null } && !RearmedEarly(pending))
                {
                    await StepAsync(tx => ResumeAsync(tx, pending.NodeId));
                }

                break;
            case PendingKind.Event:
                _eventWaits.Remove(pending.NodeId);
                var payload = await (Task<JsonObject?>)done;
                if (state is { Status: NodeStatus.Waiting, Wait: { EventName: not null, EventPayload: null } wait })
                {
                    await StepAsync(tx =>
                    {
                        wait.EventPayload = payload ?? [];
                        state.Revision++;
                        return ResumeAsync(tx, pending.NodeId);
                    });
                }

                break;
            case PendingKind.Child:
                var child = await (Task<ChildResult>)done;
                if (state is { Status: NodeStatus.Waiting, Wait: { } parentWait }
                    && parentWait.Children.TryGetValue(pending.Key!, out var childId) && childId == child.ExecutionId
                    && !parentWait.ChildResults.ContainsKey(pending.Key!))
                {
                    await StepAsync(tx =>
                    {
                        parentWait.ChildResults[pending.Key!] = child;
                        state.Revision++;
                        return ResumeAsync(tx, pending.NodeId);
                    });
                }

                break;
        }
    }

    /// <summary>
    /// A timer message may arrive before its time (Azure Storage queues delay messages in whole seconds): the node
    /// waits on a new timer for the rest instead of going on early.
    /// </summary>
    private bool RearmedEarly(Pending pending)
    {
        if (pending.Due is not { } due || due <= _context.CurrentUtcDateTime)
        {
            return false;
        }

        _inflight[_context.CreateTimer(due, _timers.Token)] = pending;
        return true;
    }

    private async Task StartAttemptAsync(string nodeId, int attempt)
    {
        var node = _doc.NodeDefinition(nodeId);
        var type = _registry.Get(node.Type);
        JsonObject? activityConfig = null;
        await StepAsync(async tx =>
        {
            var state = _doc.Nodes[nodeId];
            var config = StateMachine.ResolveConfig(_doc, node, type);
            state.Status = NodeStatus.Running;
            state.Attempts = attempt;
            state.StartedAt ??= tx.Now;
            state.Input = config;
            state.Revision++;
            if (_doc.Status == ExecutionStatus.Waiting)
            {
                _doc.Status = ExecutionStatus.Running;
                tx.Emit(EventTypes.ExecutionResumed, null, null);
            }

            tx.Emit(EventTypes.NodeStarted, nodeId, new JsonObject { ["attempt"] = attempt, ["type"] = node.Type });
            if (!type.RunsInOrchestration)
            {
                activityConfig = config;
                return;
            }

            NodeResult result;
            try
            {
                result = await type.ExecuteAsync(StateMachine.BuildContext(_doc, node, config, attempt, _clock), CancellationToken.None);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                result = NodeResult.Fail("NODE_ERROR", exception.Message, retryable: false);
            }

            await _machine.ApplyAsync(tx, nodeId, result, instant: false);
        });

        if (activityConfig is not null)
        {
            var checkpoint = Checkpoint();
            var task = _context.CallActivityAsync<NodeAttemptResult>(RunTasks.RunNode, new NodeAttempt(_doc.Id, nodeId, attempt, activityConfig, checkpoint));
            _inflight[task] = new Pending(PendingKind.Attempt, nodeId, attempt);
        }
    }

    private async ValueTask ResumeAsync(Transaction tx, string nodeId)
    {
        var node = _doc.NodeDefinition(nodeId);
        var state = _doc.Nodes[nodeId];
        var type = _registry.Get(node.Type);
        var config = StateMachine.ResolveConfig(_doc, node, type);
        NodeResult result;
        try
        {
            result = await type.ResumeAsync(StateMachine.BuildContext(_doc, node, config, state.Attempts, _clock), CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            result = NodeResult.Fail("NODE_ERROR", exception.Message, retryable: false);
        }

        await _machine.ApplyAsync(tx, nodeId, result, instant: false);
    }

    /// <summary>Runs one state-machine step, records what it changed for the next checkpoint, and starts what it asked for.</summary>
    private async Task StepAsync(Func<Transaction, ValueTask> change)
    {
        var revisions = _doc.Nodes.ToDictionary(n => n.Key, n => n.Value.Revision, StringComparer.Ordinal);
        var eventsBefore = _doc.PendingEvents.Count;
        var tx = new Transaction(_doc, Now);
        await change(tx);
        _version++;
        foreach (var (id, state) in _doc.Nodes)
        {
            if (state.Revision != revisions.GetValueOrDefault(id))
            {
                _nodeVersions[id] = _version;
            }
        }

        for (var i = eventsBefore; i < _doc.PendingEvents.Count; i++)
        {
            _eventVersions.Add(_version);
        }

        await FollowUpAsync(tx);
    }

    private async Task FollowUpAsync(Transaction tx)
    {
        foreach (var child in tx.ChildrenToStop)
        {
            _context.SendEvent(child, RunTasks.StopEvent, new StopSignal(ExecutionStatus.Cancelled, "CANCELLED", "The parent run ended."));
        }

        if (ExecutionStatus.IsTerminal(_doc.Status))
        {
            return;
        }

        foreach (var group in tx.ChildrenToCreate.GroupBy(c => c.NodeId))
        {
            StartChildren(group.Key, [.. group.Select(c => new ChildToCreate(c.ExecutionId, c.Request))]);
        }

        foreach (var (item, delay) in tx.Enqueue)
        {
            if (delay is { } wait && wait > TimeSpan.Zero)
            {
                var due = _context.CurrentUtcDateTime + wait;
                var timer = _context.CreateTimer(due, _timers.Token);
                _inflight[timer] = new Pending(item.Kind == WorkItem.Node ? PendingKind.RetryTimer : PendingKind.WaitTimer, item.NodeId, item.Attempt, Due: due);
            }
            else if (item.Kind == WorkItem.Node)
            {
                await StartAttemptAsync(item.NodeId, item.Attempt);
            }
            else
            {
                await StepAsync(next => ResumeAsync(next, item.NodeId));
            }
        }

        foreach (var (id, state) in _doc.Nodes)
        {
            if (state is { Status: NodeStatus.Waiting, Wait: { EventName: { } name, EventPayload: null } } && _eventWaits.Add(id))
            {
                var received = _context.WaitForExternalEvent<JsonObject?>(RunTasks.NodeEvent(name, id), _timers.Token);
                _inflight[received] = new Pending(PendingKind.Event, id, state.Attempts);
            }
        }
    }

    private void StartChildren(string nodeId, List<ChildToCreate> children)
    {
        var created = _context.CallActivityAsync<CreatedChildRuns>(RunTasks.CreateChildRuns,
            new ChildRunsRequest(_doc.Id, _doc.WorkspaceId, nodeId, _doc.Principal, children, Checkpoint()), StoreRetry);
        foreach (var child in children)
        {
            _inflight[RunChildAsync(created, child.ExecutionId)] = new Pending(PendingKind.Child, nodeId, 0, child.Request.Key);
        }
    }

    private async Task<ChildResult> RunChildAsync(Task<CreatedChildRuns> created, string childId)
    {
        var children = await created;
        Confirm(children.Checkpoint);
        if (children.Ended.FirstOrDefault(c => c.ExecutionId == childId) is { } ended)
        {
            return ended;
        }

        var run = children.Runnable.First(c => c.Id == childId);
        try
        {
            var outcome = await _context.CallSubOrchestratorAsync<RunOutcome>(RunTasks.Orchestrator, new RunInput(run, Admitted: true, Resume: false),
                new SubOrchestrationOptions(new TaskOptions(), childId));
            return new ChildResult(childId, outcome.Status, outcome.Outputs, outcome.Error);
        }
        catch (TaskFailedException failed)
        {
            return new ChildResult(childId, ExecutionStatus.Failed, null, failed.FailureDetails.ErrorMessage);
        }
    }

    /// <summary>Writes the progress no running activity carries yet, so the API sees a run that waits.</summary>
    private void FlushIfNeeded()
    {
        if (_version > _handed)
        {
            var save = _context.CallActivityAsync<long>(RunTasks.SaveRun, Checkpoint(), StoreRetry);
            _inflight[save] = new Pending(PendingKind.Save, "", 0);
        }
    }

    private RunCheckpoint Checkpoint()
    {
        _handed = _version;
        var nodes = new Dictionary<string, NodeState>(StringComparer.Ordinal);
        foreach (var (id, version) in _nodeVersions)
        {
            if (version > _confirmed)
            {
                nodes[id] = _doc.Nodes[id];
            }
        }

        var events = new List<ExecutionEvent>();
        for (var i = 0; i < _doc.PendingEvents.Count; i++)
        {
            if (_eventVersions[i] > _confirmed)
            {
                events.Add(_doc.PendingEvents[i]);
            }
        }

        return new RunCheckpoint(_doc.Id, _version, _doc.Retries, _doc.Status, _doc.Outputs, _doc.Error, _doc.StartedAt, _doc.CompletedAt, nodes, events);
    }

    private void Confirm(long version)
    {
        if (version <= _confirmed)
        {
            return;
        }

        _confirmed = version;
        var keep = 0;
        while (keep < _eventVersions.Count && _eventVersions[keep] <= version)
        {
            keep++;
        }

        _doc.PendingEvents.RemoveRange(0, keep);
        _eventVersions.RemoveRange(0, keep);
    }

    private enum PendingKind
    {
        Attempt,
        RetryTimer,
        WaitTimer,
        Event,
        Child,
        Save,
    }

    private sealed record Pending(PendingKind Kind, string NodeId, int Attempt, string? Key = null, DateTime? Due = null);

    /// <summary>The orchestration's replay-safe time, for node code that reads a clock.</summary>
    private sealed class OrchestrationClock(TaskOrchestrationContext context) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(context.CurrentUtcDateTime, TimeSpan.Zero);
    }
}
