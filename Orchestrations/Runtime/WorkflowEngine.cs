using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Ports;

namespace Serverless.Orchestrations.Runtime;

/// <summary>What to run.</summary>
/// <param name="WorkspaceId">The workspace the run belongs to.</param>
/// <param name="WorkflowId">The workflow.</param>
/// <param name="Version">The version to pin.</param>
/// <param name="Definition">That version's definition.</param>
/// <param name="Inputs">The run's inputs.</param>
/// <param name="Metadata">Caller metadata kept with the run.</param>
/// <param name="Principal">Who started the run, for nodes that act on their behalf (child runs inherit it).</param>
public sealed record StartRunRequest(
    string WorkspaceId, string WorkflowId, int Version, WorkflowDefinition Definition, JsonObject Inputs, JsonObject? Metadata, RunPrincipal? Principal = null);

/// <summary>
/// Who started a run. The engine only carries it: nodes that call services as the starter (the llm nodes call models
/// under the starting API key's limits) read it from <see cref="Nodes.NodeContext.Principal"/>.
/// </summary>
/// <param name="UserId">The user, if a user started it.</param>
/// <param name="ApiKeyId">The API key it was started with, if any.</param>
/// <param name="Limits">The key's limits as they were at the start, in the host's own shape.</param>
public sealed record RunPrincipal(string? UserId, string? ApiKeyId, JsonObject? Limits);

/// <summary>The outcome of <see cref="WorkflowEngine.StartAsync"/>.</summary>
/// <param name="Run">The run (null when refused).</param>
/// <param name="Refused">The workspace's queue of waiting runs is full.</param>
public sealed record StartResult(ExecutionDocument? Run, bool Refused);

/// <summary>Outcomes of requests that act on an existing run.</summary>
public enum RunActionOutcome
{
    /// <summary>Done.</summary>
    Done,
    /// <summary>No such run.</summary>
    NotFound,
    /// <summary>The run is not in a state that allows it.</summary>
    Conflict,
}

/// <summary>What the watchdog did.</summary>
/// <param name="Checked">Runs looked at.</param>
/// <param name="Redriven">Work items queued again for runs that had stalled.</param>
/// <param name="TimedOut">Runs ended for running past their timeout.</param>
public sealed record RedriveReport(int Checked, int Redriven, int TimedOut);

/// <summary>
/// The durable workflow engine. A run is a document updated under optimistic concurrency; every step that
/// has effects or waits is a work item on the queue (at-least-once, so each step checks it is still due);
/// instant nodes advance inside the same commit. After any crash, the watchdog re-drives runs that stopped
/// making progress, so no run stays <c>running</c> forever.
/// </summary>
public sealed class WorkflowEngine
{
    private static readonly TimeSpan MaxQueueDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    /// <summary>Takeovers of one node before it is failed: a node that kills its worker every time must not loop forever.</summary>
    public const int MaxTakeovers = 3;

    private readonly IWorkQueue _queue;
    private readonly NodeRegistry _registry;
    private readonly IWorkflowCatalog _catalog;
    private readonly IExecutionObserver[] _observers;
    private readonly IRunCompletionListener[] _completionListeners;
    private readonly EngineOptions _options;
    private readonly TimeProvider _clock;
    private readonly IIdGenerator _ids;
    private readonly Admission _admission;
    private readonly StateMachine _machine;
    private readonly SemaphoreSlim[] _locks = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<string, long> _flushedThrough = new(StringComparer.Ordinal);

    /// <summary>Creates the engine over its ports.</summary>
    public WorkflowEngine(
        IEntityStore store, IWorkQueue queue, NodeRegistry registry, IWorkflowCatalog catalog,
        IEnumerable<IExecutionObserver> observers, EngineOptions options, TimeProvider clock, IIdGenerator ids,
        IEnumerable<IRunCompletionListener>? completionListeners = null)
    {
        _completionListeners = [.. completionListeners ?? []];
        _queue = queue;
        _registry = registry;
        _catalog = catalog;
        _observers = [.. observers];
        _options = options;
        _clock = clock;
        _ids = ids;
        Store = new ExecutionStore(store);
        Index = new ExecutionIndex(store);
        _admission = new Admission(store, options);
        _machine = new StateMachine(registry, options, clock);
    }

    /// <summary>Run documents and event logs.</summary>
    public ExecutionStore Store { get; }

    /// <summary>Lists of top-level runs.</summary>
    public ExecutionIndex Index { get; }

    /// <summary>The queue the engine's work items travel on.</summary>
    public string QueueName => _options.QueueName;

    /// <summary>Accepts a run: stores it as <c>queued</c> and queues its start.</summary>
    public async Task<StartResult> StartAsync(StartRunRequest request, CancellationToken cancellationToken)
    {
        var id = _ids.NewId("exe");
        if (!await _admission.TryEnqueueAsync(request.WorkspaceId, id, cancellationToken))
        {
            return new StartResult(null, Refused: true);
        }

        var run = NewRun(id, request.WorkspaceId, request.WorkflowId, request.Version, request.Definition, request.Inputs, request.Metadata, null, request.Principal);
        await Store.InsertAsync(run, cancellationToken);
        await Index.AddAsync(run, cancellationToken);
        await EnqueueAsync(new WorkItem(run.Id, null, 0, WorkItem.Start), null, cancellationToken);
        Notify(run, []);
        return new StartResult(run, Refused: false);
    }

    /// <summary>The workspace's top-level runs that hold a slot or wait for one.</summary>
    public Task<IReadOnlyList<string>> ActiveRunsAsync(string workspaceId, CancellationToken cancellationToken) =>
        _admission.ActiveAsync(workspaceId, cancellationToken);

    /// <summary>Processes one work item from the queue. Safe to call more than once for the same item.</summary>
    public Task HandleAsync(WorkItem item, CancellationToken cancellationToken) => item.Kind switch
    {
        WorkItem.Start => HandleStartAsync(item, cancellationToken),
        WorkItem.Node => HandleNodeAsync(item, cancellationToken),
        _ => HandleResumeAsync(item, cancellationToken),
    };

    /// <summary>Stops a run (and its child runs); false outcome when it already ended.</summary>
    public async Task<RunActionOutcome> StopAsync(string executionId, string reason, CancellationToken cancellationToken)
    {
        var result = await TransactAsync(executionId, tx =>
        {
            if (ExecutionStatus.IsTerminal(tx.Doc.Status))
            {
                return ValueTask.FromResult(false);
            }

            _machine.EndUnsuccessfully(tx, ExecutionStatus.Cancelled, new RunError("CANCELLED", reason, null));
            return ValueTask.FromResult(true);
        }, cancellationToken);
        return result.Run is null ? RunActionOutcome.NotFound : result.Committed ? RunActionOutcome.Done : RunActionOutcome.Conflict;
    }

    /// <summary>
    /// Resumes a failed, cancelled or timed-out run from the nodes that did not finish. The nodes run again for
    /// <paramref name="principal"/>, whoever asked for the retry: the first starter's key limits and budget must not
    /// carry a retry by someone else (nor hold back one by its owner).
    /// </summary>
    public async Task<RunActionOutcome> RetryAsync(string executionId, RunPrincipal? principal, CancellationToken cancellationToken)
    {
        var loaded = await Store.LoadAsync(executionId, cancellationToken);
        if (loaded is null)
        {
            return RunActionOutcome.NotFound;
        }

        if (loaded.Document.ParentExecutionId is null)
        {
            await _admission.AdmitAsync(loaded.Document.WorkspaceId, executionId, force: true, cancellationToken);
        }

        var result = await TransactAsync(executionId, async tx =>
        {
            var doc = tx.Doc;
            if (doc.Status is not (ExecutionStatus.Failed or ExecutionStatus.Cancelled or ExecutionStatus.TimedOut) || doc.StartedAt is null)
            {
                return false;
            }

            ResetUnfinished(doc);
            doc.Status = ExecutionStatus.Running;
            doc.Error = null;
            doc.Outputs = null;
            doc.CompletedAt = null;
            doc.Retries++;
            doc.Principal = principal;
            tx.Emit(EventTypes.ExecutionResumed, null, new JsonObject { ["retry"] = doc.Retries });
            await _machine.CascadeAsync(tx);
            return true;
        }, cancellationToken);
        if (result.Committed && result.Run is { ParentExecutionId: null } retried)
        {
            await Index.UpdateAsync(retried, cancellationToken);
        }

        return result.Run is null ? RunActionOutcome.NotFound : result.Committed ? RunActionOutcome.Done : RunActionOutcome.Conflict;
    }

    /// <summary>Delivers an external event (e.g. a review decision) to a node waiting for it.</summary>
    public async Task<RunActionOutcome> SubmitEventAsync(string executionId, string nodeId, string eventName, JsonObject payload, CancellationToken cancellationToken)
    {
        var result = await TransactAsync(executionId, tx =>
        {
            if (ExecutionStatus.IsTerminal(tx.Doc.Status) || !tx.Doc.Nodes.TryGetValue(nodeId, out var state)
                || state.Status != NodeStatus.Waiting || state.Wait is not { EventPayload: null } wait || wait.EventName != eventName)
            {
                return ValueTask.FromResult(false);
            }

            wait.EventPayload = payload;
            state.Revision++;
            tx.Enqueue.Add((new WorkItem(tx.Doc.Id, nodeId, state.Attempts, WorkItem.Resume), null));
            return ValueTask.FromResult(true);
        }, cancellationToken);
        return result.Run is null ? RunActionOutcome.NotFound : result.Committed ? RunActionOutcome.Done : RunActionOutcome.Conflict;
    }

    /// <summary>
    /// The watchdog: for every active run that made no progress for <see cref="EngineOptions.StaleAfter"/>, queues
    /// again whatever was due (lost work items, expired leases, fired timers, finished children) and ends runs
    /// past their timeout. Also frees slots held by runs that already ended.
    /// </summary>
    public async Task<RedriveReport> RedriveAsync(CancellationToken cancellationToken)
    {
        var report = new RedriveCounter();
        foreach (var (workspaceId, slots) in await _admission.ListAllAsync(cancellationToken))
        {
            foreach (var id in slots.Running.Concat(slots.Waiting).ToList())
            {
                await RedriveRunAsync(id, workspaceId, report, depth: 0, cancellationToken);
            }
        }

        return new RedriveReport(report.Checked, report.Redriven, report.TimedOut);
    }

    private async Task HandleStartAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var loaded = await Store.LoadAsync(item.ExecutionId, cancellationToken);
        if (loaded is null || loaded.Document.Status != ExecutionStatus.Queued)
        {
            return;
        }

        var run = loaded.Document;
        if (run.ParentExecutionId is null && !await _admission.AdmitAsync(run.WorkspaceId, run.Id, force: false, cancellationToken))
        {
            return;
        }

        await TransactAsync(run.Id, async tx =>
        {
            if (tx.Doc.Status != ExecutionStatus.Queued)
            {
                return false;
            }

            await _machine.StartAsync(tx);
            return true;
        }, cancellationToken);
    }

    private async Task HandleNodeAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var loaded = await Store.LoadAsync(item.ExecutionId, cancellationToken);
        if (loaded is null || item.NodeId is null || ExecutionStatus.IsTerminal(loaded.Document.Status)
            || loaded.Document.Definition.Nodes.FirstOrDefault(n => n.Id == item.NodeId) is not { } node
            || !Claimable(loaded.Document.Nodes[node.Id], item.Attempt))
        {
            return;
        }

        JsonObject config = [];
        var gaveUp = false;
        var claimed = 0;
        var claim = await TransactAsync(item.ExecutionId, async tx =>
        {
            var state = tx.Doc.Nodes[node.Id];
            if (ExecutionStatus.IsTerminal(tx.Doc.Status) || !Claimable(state, item.Attempt))
            {
                return false;
            }

            if (state.Status == NodeStatus.Running && ++state.Takeovers > MaxTakeovers)
            {
                gaveUp = true;
                await _machine.ApplyAsync(tx, node.Id, NodeResult.Fail("WORKER_LOST",
                    $"The worker running this node stopped answering {state.Takeovers} times; the node was given up.", retryable: false), instant: false);
                return true;
            }

            config = StateMachine.ResolveConfig(tx.Doc, node);
            state.Status = NodeStatus.Running;
            state.Attempts = item.Attempt;
            state.LeaseUntil = tx.Now + _machine.LeaseFor(node);
            state.StartedAt ??= tx.Now;
            state.Input = config;
            claimed = ++state.Revision;
            if (tx.Doc.Status == ExecutionStatus.Waiting)
            {
                tx.Doc.Status = ExecutionStatus.Running;
                tx.Emit(EventTypes.ExecutionResumed, null, null);
            }

            tx.Emit(EventTypes.NodeStarted, node.Id, new JsonObject { ["attempt"] = item.Attempt, ["type"] = node.Type, ["takeover"] = state.Takeovers > 0 });
            return true;
        }, cancellationToken);
        if (!claim.Committed || gaveUp)
        {
            return;
        }

        var context = StateMachine.BuildContext(claim.Run!, node, config, item.Attempt, _clock, ProgressEmitter(item.ExecutionId, node.Id, item.Attempt, claimed));
        var result = await RunAttemptAsync(_registry.Get(node.Type), node, context, cancellationToken);
        await TransactAsync(item.ExecutionId, async tx =>
        {
            // Only the claim that still holds the node applies its result: after a stop and retry the node runs again
            // at the same attempt number, and a late worker's result (from inputs of before) must not end it.
            var state = tx.Doc.Nodes[node.Id];
            if (ExecutionStatus.IsTerminal(tx.Doc.Status) || state.Status != NodeStatus.Running || state.Revision != claimed)
            {
                return false;
            }

            await _machine.ApplyAsync(tx, node.Id, result, instant: false);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Progress events of a running attempt go through the same commit as every other event, so they take their place
    /// in the log's order and readers stay gap-free. Only the claim that holds the node may report, known by the node's
    /// revision at the claim (nothing else changes it while the node runs): a late worker whose attempt was taken over,
    /// or whose run was stopped and retried (the retry starts the node over at attempt 1), writes nothing.
    /// </summary>
    private Func<string, JsonObject?, CancellationToken, Task<bool>> ProgressEmitter(string executionId, string nodeId, int attempt, int claimed) =>
        async (type, data, cancellationToken) =>
        {
            var result = await TransactAsync(executionId, tx =>
            {
                var state = tx.Doc.Nodes.GetValueOrDefault(nodeId);
                var live = !ExecutionStatus.IsTerminal(tx.Doc.Status) && state is { Status: NodeStatus.Running } && state.Revision == claimed;
                if (live)
                {
                    var payload = data?.DeepClone().AsObject() ?? [];
                    payload["attempt"] = attempt;
                    tx.Emit(type, nodeId, payload);

                    // A node that reports is alive: its lease runs on from now, so a long stream (a slow model) is not
                    // taken over by the watchdog mid-answer. The revision stays, so the claim still holds the node.
                    var renewed = tx.Now + _options.NodeLease;
                    if (state!.LeaseUntil < renewed)
                    {
                        state.LeaseUntil = renewed;
                    }
                }

                return ValueTask.FromResult(live);
            }, cancellationToken);
            return result.Committed;
        };

    private async Task HandleResumeAsync(WorkItem item, CancellationToken cancellationToken)
    {
        // A resume computed from a state that changed meanwhile (another child finished) is recomputed.
        for (var round = 0; round < 10; round++)
        {
            var loaded = await Store.LoadAsync(item.ExecutionId, cancellationToken);
            if (loaded is null || item.NodeId is null || ExecutionStatus.IsTerminal(loaded.Document.Status)
                || !loaded.Document.Nodes.TryGetValue(item.NodeId, out var state) || state.Status != NodeStatus.Waiting || state.Wait is not { } wait)
            {
                return;
            }

            var now = _clock.GetUtcNow();
            if (wait.Until is { } until && until > now)
            {
                // Delivered early (a long timer is queued in hops of at most a week): wait for the rest.
                await EnqueueAsync(item, until - now, cancellationToken);
                return;
            }

            if (wait.EventName is not null && wait.EventPayload is null || wait.Until is null && wait.EventName is null && wait.ChildResults.Count == 0)
            {
                return;
            }

            var node = loaded.Document.NodeDefinition(item.NodeId);
            var revision = state.Revision;
            var config = StateMachine.ResolveConfig(loaded.Document, node);
            var context = StateMachine.BuildContext(loaded.Document, node, config, state.Attempts, _clock);
            NodeResult result;
            try
            {
                result = await _registry.Get(node.Type).ResumeAsync(context, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                result = NodeResult.Fail("NODE_ERROR", exception.Message, retryable: false);
            }

            var stale = false;
            var applied = await TransactAsync(item.ExecutionId, async tx =>
            {
                var current = tx.Doc.Nodes[node.Id];
                if (ExecutionStatus.IsTerminal(tx.Doc.Status) || current.Status != NodeStatus.Waiting)
                {
                    return false;
                }

                if (current.Revision != revision)
                {
                    stale = true;
                    return false;
                }

                await _machine.ApplyAsync(tx, node.Id, result, instant: false);
                return true;
            }, cancellationToken);
            if (applied.Committed || !stale)
            {
                return;
            }
        }
    }

    private static async Task<NodeResult> RunAttemptAsync(INodeType type, NodeDefinition node, NodeContext context, CancellationToken cancellationToken)
    {
        var settings = NodeSettings.From(node.Config);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.TimeoutSeconds is { } seconds)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        try
        {
            return await type.ExecuteAsync(context, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NodeResult.Fail("NODE_TIMEOUT", $"The node did not finish within {settings.TimeoutSeconds} s.", retryable: true);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return NodeResult.Fail("NODE_ERROR", exception.Message, retryable: true);
        }
    }

    private bool Claimable(NodeState state, int attempt) =>
        state.Status == NodeStatus.Scheduled && state.Attempts == attempt - 1
        || state.Status == NodeStatus.Running && state.Attempts == attempt && state.LeaseUntil <= _clock.GetUtcNow();

    private static void ResetUnfinished(ExecutionDocument doc)
    {
        var reset = new HashSet<string>(doc.Nodes.Where(n => n.Value.Status is NodeStatus.Failed or NodeStatus.Cancelled).Select(n => n.Key), StringComparer.Ordinal);
        var frontier = new Queue<string>(reset);
        while (frontier.TryDequeue(out var id))
        {
            foreach (var edge in doc.Definition.Edges.Where(e => e.Source == id))
            {
                if (doc.Nodes[edge.Target].Status is NodeStatus.Skipped or NodeStatus.Cancelled or NodeStatus.Pending && reset.Add(edge.Target))
                {
                    frontier.Enqueue(edge.Target);
                }
            }
        }

        foreach (var id in reset)
        {
            doc.Nodes[id] = new NodeState { Revision = doc.Nodes[id].Revision + 1 };
        }
    }

    private async Task RedriveRunAsync(string id, string workspaceId, RedriveCounter report, int depth, CancellationToken cancellationToken)
    {
        report.Checked++;
        var loaded = await Store.LoadAsync(id, cancellationToken);
        if (loaded is null)
        {
            if (depth == 0)
            {
                await PromoteAsync(await _admission.ReleaseAsync(workspaceId, id, cancellationToken), cancellationToken);
            }

            return;
        }

        var run = loaded.Document;
        var now = _clock.GetUtcNow();
        if (ExecutionStatus.IsTerminal(run.Status))
        {
            // The run ended but what follows its end (slot, index, parent) may have been cut short by a crash.
            await AfterTerminalAsync(run, cancellationToken);
            return;
        }

        if (run.Definition.TimeoutSeconds is { } limit && run.StartedAt is { } started && now - started > TimeSpan.FromSeconds(limit))
        {
            var ended = await TransactAsync(id, tx =>
            {
                if (ExecutionStatus.IsTerminal(tx.Doc.Status))
                {
                    return ValueTask.FromResult(false);
                }

                _machine.EndUnsuccessfully(tx, ExecutionStatus.TimedOut, new RunError("RUN_TIMEOUT", $"The run exceeded its timeout of {limit} s.", null));
                return ValueTask.FromResult(true);
            }, cancellationToken);
            report.TimedOut += ended.Committed ? 1 : 0;
            return;
        }

        var stale = now - run.UpdatedAt >= _options.StaleAfter;
        // A queued run's start may have been lost; starting it again either takes a slot or leaves it in line.
        if (stale && run.Status == ExecutionStatus.Queued)
        {
            await EnqueueAsync(new WorkItem(id, null, 0, WorkItem.Start), null, cancellationToken);
            report.Redriven++;
        }

        foreach (var (nodeId, state) in run.Nodes)
        {
            if (stale && state.Status == NodeStatus.Scheduled)
            {
                await EnqueueAsync(new WorkItem(id, nodeId, state.Attempts + 1, WorkItem.Node), null, cancellationToken);
                report.Redriven++;
            }
            else if (state.Status == NodeStatus.Running && state.LeaseUntil <= now)
            {
                await EnqueueAsync(new WorkItem(id, nodeId, state.Attempts, WorkItem.Node), null, cancellationToken);
                report.Redriven++;
            }
            else if (state.Status == NodeStatus.Waiting && state.Wait is { } wait)
            {
                await RedriveWaitAsync(run, nodeId, state, wait, stale, now, report, depth, cancellationToken);
            }
        }
    }

    private async Task RedriveWaitAsync(
        ExecutionDocument run, string nodeId, NodeState state, WaitState wait, bool stale, DateTimeOffset now, RedriveCounter report, int depth, CancellationToken cancellationToken)
    {
        var resume = new WorkItem(run.Id, nodeId, state.Attempts, WorkItem.Resume);
        if (stale && (wait.Until <= now || wait.EventPayload is not null || wait.ChildResults.Count > 0))
        {
            await EnqueueAsync(resume, null, cancellationToken);
            report.Redriven++;
        }

        foreach (var (key, childId) in wait.Children.Where(c => !wait.ChildResults.ContainsKey(c.Key)))
        {
            var child = (await Store.LoadAsync(childId, cancellationToken))?.Document;
            if (child is null)
            {
                continue;
            }

            if (ExecutionStatus.IsTerminal(child.Status))
            {
                await NotifyParentAsync(child, cancellationToken);
                report.Redriven++;
            }
            else if (depth < 8)
            {
                await RedriveRunAsync(childId, run.WorkspaceId, report, depth + 1, cancellationToken);
            }
        }
    }

    private sealed class RedriveCounter
    {
        public int Checked;
        public int Redriven;
        public int TimedOut;
    }

    private sealed record TransactionResult(ExecutionDocument? Run, bool Committed);

    /// <summary>
    /// Read, change, commit under the run's ETag; on a lost race, do it all again on the newer document.
    /// The stripe lock keeps this process's own writers from racing each other.
    /// </summary>
    private async Task<TransactionResult> TransactAsync(string executionId, Func<Transaction, ValueTask<bool>> change, CancellationToken cancellationToken)
    {
        var gate = _locks[(uint)StringComparer.Ordinal.GetHashCode(executionId) % (uint)_locks.Length];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            Transaction tx;
            await gate.WaitAsync(cancellationToken);
            try
            {
                var loaded = await Store.LoadAsync(executionId, cancellationToken);
                if (loaded is null)
                {
                    return new TransactionResult(null, false);
                }

                var doc = loaded.Document;
                await FlushPendingEventsAsync(doc, cancellationToken);
                doc.PendingEvents = [];
                tx = new Transaction(doc, _clock.GetUtcNow());
                if (!await change(tx))
                {
                    return new TransactionResult(doc, false);
                }

                doc.UpdatedAt = tx.Now;
                await CreateChildrenAsync(tx, cancellationToken);
                if (await Store.ReplaceAsync(doc, loaded.ETag, CancellationToken.None) is null)
                {
                    continue;
                }

                // Still under the lock, so this process writes the log in commit order: a reader never sees a
                // later commit's events before an earlier one's.
                await AppendCommittedEventsAsync(doc);
            }
            finally
            {
                gate.Release();
            }

            await AfterCommitAsync(tx, cancellationToken);
            return new TransactionResult(tx.Doc, true);
        }

        throw new InvalidOperationException($"Run {executionId} kept changing under 50 attempts to update it.");
    }

    private async Task AppendCommittedEventsAsync(ExecutionDocument doc)
    {
        if (doc.PendingEvents.Count > 0)
        {
            // Not cancellable: the commit happened, so its events belong in the log.
            await Store.AppendEventsAsync(doc.Id, doc.PendingEvents, CancellationToken.None);
            _flushedThrough[doc.Id] = doc.PendingEvents[^1].Seq;
        }
    }

    private async Task FlushPendingEventsAsync(ExecutionDocument doc, CancellationToken cancellationToken)
    {
        if (doc.PendingEvents.Count > 0 && _flushedThrough.GetValueOrDefault(doc.Id) < doc.PendingEvents[^1].Seq)
        {
            // The commit that carried these events may have died before writing them to the log.
            await Store.AppendEventsAsync(doc.Id, doc.PendingEvents, cancellationToken);
        }
    }

    private async Task CreateChildrenAsync(Transaction tx, CancellationToken cancellationToken)
    {
        foreach (var (childId, nodeId, request) in tx.ChildrenToCreate)
        {
            var entry = await _catalog.FindAsync(tx.Doc.WorkspaceId, request.WorkflowId, request.Version, cancellationToken);
            var child = NewRun(childId, tx.Doc.WorkspaceId, request.WorkflowId, entry?.Version ?? request.Version ?? 0,
                entry?.Definition ?? new WorkflowDefinition([], []), request.Inputs, null, (tx.Doc.Id, nodeId, request.Key),
                tx.Doc.Principal); // a child acts for whoever started its parent
            if (entry is null)
            {
                // A child that cannot run ends at once; its parent hears of it like any other child.
                child.Status = ExecutionStatus.Failed;
                child.Error = new RunError("WORKFLOW_NOT_FOUND", $"Workflow {request.WorkflowId} (version {request.Version?.ToString() ?? "current"}) was not found.", null);
                child.CompletedAt = tx.Now;
            }

            await Store.InsertAsync(child, cancellationToken);
        }
    }

    private async Task AfterCommitAsync(Transaction tx, CancellationToken cancellationToken)
    {
        var doc = tx.Doc;
        var events = doc.PendingEvents.ToList();
        foreach (var (item, delay) in tx.Enqueue)
        {
            await EnqueueAsync(item, delay, cancellationToken);
        }

        foreach (var (childId, _, _) in tx.ChildrenToCreate)
        {
            var child = (await Store.LoadAsync(childId, cancellationToken))?.Document;
            if (child is { Status: ExecutionStatus.Queued })
            {
                await EnqueueAsync(new WorkItem(childId, null, 0, WorkItem.Start), null, cancellationToken);
            }
            else if (child is not null && ExecutionStatus.IsTerminal(child.Status))
            {
                await NotifyParentAsync(child, cancellationToken);
            }
        }

        Notify(doc, events);
        if (tx.BecameTerminal)
        {
            _flushedThrough.TryRemove(doc.Id, out _);
            foreach (var child in tx.ChildrenToStop)
            {
                await StopAsync(child, "The parent run ended.", cancellationToken);
            }

            await AfterTerminalAsync(doc, cancellationToken);
        }
    }

    private async Task AfterTerminalAsync(ExecutionDocument run, CancellationToken cancellationToken)
    {
        if (run.ParentExecutionId is null)
        {
            await Index.UpdateAsync(run, cancellationToken);
            await PromoteAsync(await _admission.ReleaseAsync(run.WorkspaceId, run.Id, cancellationToken), cancellationToken);
            foreach (var listener in _completionListeners)
            {
                await listener.OnRunEndedAsync(run, cancellationToken);
            }
        }
        else
        {
            await NotifyParentAsync(run, cancellationToken);
        }
    }

    private async Task PromoteAsync(IReadOnlyList<string> promoted, CancellationToken cancellationToken)
    {
        foreach (var id in promoted)
        {
            await EnqueueAsync(new WorkItem(id, null, 0, WorkItem.Start), null, cancellationToken);
        }
    }

    private Task NotifyParentAsync(ExecutionDocument child, CancellationToken cancellationToken) =>
        TransactAsync(child.ParentExecutionId!, tx =>
        {
            if (ExecutionStatus.IsTerminal(tx.Doc.Status) || !tx.Doc.Nodes.TryGetValue(child.ParentNodeId!, out var state)
                || state.Status != NodeStatus.Waiting || state.Wait is not { } wait
                || !wait.Children.TryGetValue(child.ParentKey!, out var id) || id != child.Id || wait.ChildResults.ContainsKey(child.ParentKey!))
            {
                return ValueTask.FromResult(false);
            }

            wait.ChildResults[child.ParentKey!] = new ChildResult(child.Id, child.Status, child.Outputs, child.Error?.Message);
            state.Revision++;
            tx.Enqueue.Add((new WorkItem(tx.Doc.Id, child.ParentNodeId, state.Attempts, WorkItem.Resume), null));
            return ValueTask.FromResult(true);
        }, cancellationToken);

    private Task EnqueueAsync(WorkItem item, TimeSpan? delay, CancellationToken cancellationToken) =>
        _queue.EnqueueAsync(_options.QueueName, item.ToMessage(), delay is { } d && d > MaxQueueDelay ? MaxQueueDelay : delay, cancellationToken);

    private void Notify(ExecutionDocument run, IReadOnlyList<ExecutionEvent> events)
    {
        foreach (var observer in _observers)
        {
            observer.OnCommitted(run, events);
        }
    }

    private ExecutionDocument NewRun(
        string id, string workspaceId, string workflowId, int version, WorkflowDefinition definition, JsonObject inputs, JsonObject? metadata,
        (string ExecutionId, string NodeId, string Key)? parent, RunPrincipal? principal)
    {
        var now = _clock.GetUtcNow();
        var run = new ExecutionDocument
        {
            Id = id,
            WorkspaceId = workspaceId,
            WorkflowId = workflowId,
            Version = version,
            Definition = definition,
            Inputs = inputs,
            Metadata = metadata,
            CreatedAt = now,
            UpdatedAt = now,
            ParentExecutionId = parent?.ExecutionId,
            ParentNodeId = parent?.NodeId,
            ParentKey = parent?.Key,
            Principal = principal,
        };
        foreach (var node in definition.Nodes)
        {
            run.Nodes[node.Id] = new NodeState();
        }

        return run;
    }
}
