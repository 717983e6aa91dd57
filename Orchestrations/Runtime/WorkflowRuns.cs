using System.Diagnostics.CodeAnalysis;
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
/// Who started a run. The runtime only carries it: nodes that call services as the starter (the llm nodes call models
/// under the starting API key's limits) read it from <see cref="Nodes.NodeContext.Principal"/>.
/// </summary>
/// <param name="UserId">The user, if a user started it.</param>
/// <param name="ApiKeyId">The API key it was started with, if any.</param>
/// <param name="Limits">The key's limits as they were at the start, in the host's own shape.</param>
public sealed record RunPrincipal(string? UserId, string? ApiKeyId, JsonObject? Limits);

/// <summary>The outcome of <see cref="WorkflowRuns.StartAsync"/>.</summary>
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

/// <summary>What the sweep did.</summary>
/// <param name="Checked">Runs holding or waiting for a slot that were looked at.</param>
/// <param name="Started">Accepted runs whose orchestration was missing (the process died before scheduling it) and was started.</param>
/// <param name="Released">Slots freed for runs that had ended or vanished.</param>
public sealed record SweepReport(int Checked, int Started, int Released);

/// <summary>
/// Workflow runs as the API sees them: start, stop, retry, deliver a review; run documents, event logs and lists. Each
/// run is a Durable Task orchestration (<see cref="WorkflowOrchestrator"/>) reached through <see cref="IRunOrchestrations"/>.
/// </summary>
public sealed class WorkflowRuns
{
    private readonly IRunOrchestrations _orchestrations;
    private readonly StateMachine _machine;
    private readonly EngineOptions _options;
    private readonly TimeProvider _clock;
    private readonly IIdGenerator _ids;

    /// <summary>Creates the runs API over its ports.</summary>
    public WorkflowRuns(
        IEntityStore store, IRunOrchestrations orchestrations, NodeRegistry registry, IWorkflowCatalog catalog,
        IEnumerable<IExecutionObserver> observers, EngineOptions options, TimeProvider clock, IIdGenerator ids,
        IEnumerable<IRunCompletionListener>? completionListeners = null, IEnumerable<INodeAttemptObserver>? attemptObservers = null)
    {
        _orchestrations = orchestrations;
        _options = options;
        _clock = clock;
        _ids = ids;
        Registry = registry;
        Catalog = catalog;
        CompletionListeners = [.. completionListeners ?? []];
        AttemptObservers = [.. attemptObservers ?? []];
        Store = new ExecutionStore(store);
        Index = new ExecutionIndex(store);
        Admission = new Admission(store, options);
        Projection = new RunProjection(Store, observers, clock);
        _machine = new StateMachine(registry, clock);
    }

    /// <summary>Run documents and event logs.</summary>
    public ExecutionStore Store { get; }

    /// <summary>Lists of top-level runs.</summary>
    public ExecutionIndex Index { get; }

    /// <summary>Writes run documents and event logs.</summary>
    public RunProjection Projection { get; }

    internal Admission Admission { get; }

    internal NodeRegistry Registry { get; }

    internal IWorkflowCatalog Catalog { get; }

    internal IRunCompletionListener[] CompletionListeners { get; }

    internal INodeAttemptObserver[] AttemptObservers { get; }

    internal TimeProvider Clock => _clock;

    /// <summary>Accepts a run: stores it as <c>queued</c> and schedules its orchestration.</summary>
    public async Task<StartResult> StartAsync(StartRunRequest request, CancellationToken cancellationToken)
    {
        var id = _ids.NewId("exe");
        // From the slot on, the caller leaving must not cut the start short: a run that holds a slot must reach its
        // orchestration, or it would hold the slot until the sweep finds it.
        if (await Admission.TryEnqueueAsync(request.WorkspaceId, id, CancellationToken.None) is not { } admitted)
        {
            return new StartResult(null, Refused: true);
        }

        var run = NewRun(id, request.WorkspaceId, request.WorkflowId, request.Version, request.Definition, request.Inputs, request.Metadata, null, request.Principal);
        await Projection.InsertAsync(run, CancellationToken.None);
        await Index.AddAsync(run, CancellationToken.None);
        await _orchestrations.StartAsync(RunTasks.InstanceId(run), new RunInput(run, admitted, Resume: false), CancellationToken.None);
        return new StartResult(run, Refused: false);
    }

    /// <summary>The workspace's top-level runs that hold a slot or wait for one.</summary>
    public Task<IReadOnlyList<string>> ActiveRunsAsync(string workspaceId, CancellationToken cancellationToken) =>
        Admission.ActiveAsync(workspaceId, cancellationToken);

    /// <summary>
    /// Stops a run: it ends <c>cancelled</c> at once in the API's view, and its orchestration is told to stop (it stops
    /// its child runs and frees the slot). Conflict when it already ended.
    /// </summary>
    public async Task<RunActionOutcome> StopAsync(string executionId, string reason, CancellationToken cancellationToken)
    {
        var (run, committed) = await Projection.ChangeAsync(executionId, (doc, now) =>
        {
            if (ExecutionStatus.IsTerminal(doc.Status))
            {
                return false;
            }

            _machine.EndUnsuccessfully(new Transaction(doc, now), ExecutionStatus.Cancelled, new RunError("CANCELLED", reason, null));
            return true;
        }, cancellationToken);
        if (Refused(run, committed, out var refusal))
        {
            return refusal;
        }

        await _orchestrations.RaiseEventAsync(RunTasks.InstanceId(run), RunTasks.StopEvent,
            new StopSignal(ExecutionStatus.Cancelled, "CANCELLED", reason), CancellationToken.None);
        return RunActionOutcome.Done;
    }

    /// <summary>
    /// Resumes a failed, cancelled or timed-out run from the nodes that did not finish, in a new orchestration that
    /// reuses the outputs of the nodes that succeeded. The nodes run again for <paramref name="principal"/>, whoever
    /// asked for the retry: the first starter's key limits and budget must not carry a retry by someone else.
    /// </summary>
    public async Task<RunActionOutcome> RetryAsync(string executionId, RunPrincipal? principal, CancellationToken cancellationToken)
    {
        var loaded = await Store.LoadAsync(executionId, cancellationToken);
        if (loaded is null)
        {
            return RunActionOutcome.NotFound;
        }

        if (!Retryable(loaded.Document))
        {
            return RunActionOutcome.Conflict;
        }

        if (loaded.Document.ParentExecutionId is null)
        {
            await Admission.AdmitAsync(loaded.Document.WorkspaceId, executionId, force: true, CancellationToken.None);
        }

        var (run, committed) = await Projection.ChangeAsync(executionId, (doc, now) =>
        {
            if (!Retryable(doc))
            {
                return false;
            }

            StateMachine.ResetUnfinished(doc);
            doc.Status = ExecutionStatus.Running;
            doc.Error = null;
            doc.Outputs = null;
            doc.CompletedAt = null;
            doc.Retries++;
            doc.Principal = principal;
            new Transaction(doc, now).Emit(EventTypes.ExecutionResumed, null, new JsonObject { ["retry"] = doc.Retries });
            return true;
        }, CancellationToken.None);
        if (Refused(run, committed, out var refusal))
        {
            return refusal;
        }

        if (run.ParentExecutionId is null)
        {
            await Index.UpdateAsync(run, CancellationToken.None);
        }

        await _orchestrations.StartAsync(RunTasks.InstanceId(run), new RunInput(run, Admitted: true, Resume: true), CancellationToken.None);
        return RunActionOutcome.Done;
    }

    /// <summary>
    /// Delivers an external event (e.g. a review decision) to a node waiting for it. The stored node takes the payload
    /// first, so a second delivery is a conflict; the orchestration then resumes the node.
    /// </summary>
    public async Task<RunActionOutcome> SubmitEventAsync(string executionId, string nodeId, string eventName, JsonObject payload, CancellationToken cancellationToken)
    {
        var (run, committed) = await Projection.ChangeAsync(executionId, (doc, now) =>
        {
            if (ExecutionStatus.IsTerminal(doc.Status) || !doc.Nodes.TryGetValue(nodeId, out var state)
                || state.Status != NodeStatus.Waiting || state.Wait is not { EventPayload: null } wait || wait.EventName != eventName)
            {
                return false;
            }

            wait.EventPayload = payload;
            return true;
        }, cancellationToken);
        if (Refused(run, committed, out var refusal))
        {
            return refusal;
        }

        await _orchestrations.RaiseEventAsync(RunTasks.InstanceId(run), RunTasks.NodeEvent(eventName, nodeId), payload, CancellationToken.None);
        return RunActionOutcome.Done;
    }

    /// <summary>
    /// Repairs what a crash can leave between the store and the orchestrations: starts accepted runs whose
    /// orchestration was never scheduled, and frees the slots of runs that ended (or vanished) without freeing them.
    /// </summary>
    public async Task<SweepReport> SweepAsync(CancellationToken cancellationToken)
    {
        int checkedRuns = 0, started = 0, released = 0;
        var now = _clock.GetUtcNow();
        foreach (var (workspaceId, slots) in await Admission.ListAllAsync(cancellationToken))
        {
            foreach (var id in slots.Running.Concat(slots.Waiting).ToList())
            {
                checkedRuns++;
                var run = (await Store.LoadAsync(id, cancellationToken))?.Document;
                if (run is null || ExecutionStatus.IsTerminal(run.Status) && now - run.UpdatedAt >= _options.OrphanAfter)
                {
                    // An ended run frees its slot in its last activity; one still holding it long after had that cut short.
                    await PromoteAsync(await Admission.ReleaseAsync(workspaceId, id, cancellationToken), cancellationToken);
                    released++;
                }
                else if (!ExecutionStatus.IsTerminal(run.Status) && now - run.CreatedAt >= _options.OrphanAfter
                         && !await _orchestrations.ExistsAsync(RunTasks.InstanceId(run), cancellationToken))
                {
                    await _orchestrations.StartAsync(RunTasks.InstanceId(run), new RunInput(run, slots.Running.Contains(id), Resume: run.StartedAt is not null), cancellationToken);
                    started++;
                }
            }
        }

        return new SweepReport(checkedRuns, started, released);
    }

    internal async Task PromoteAsync(IReadOnlyList<string> promoted, CancellationToken cancellationToken)
    {
        foreach (var id in promoted)
        {
            if ((await Store.LoadAsync(id, cancellationToken))?.Document is { } run)
            {
                await _orchestrations.RaiseEventAsync(RunTasks.InstanceId(run), RunTasks.AdmittedEvent, null, cancellationToken);
            }
        }
    }

    /// <summary>Why a change to a run was not made: no such run, or it was not in a state that allows it.</summary>
    private static bool Refused([NotNullWhen(false)] ExecutionDocument? run, bool committed, out RunActionOutcome refusal)
    {
        refusal = run is null ? RunActionOutcome.NotFound : RunActionOutcome.Conflict;
        return run is null || !committed;
    }

    private static bool Retryable(ExecutionDocument doc) =>
        doc.Status is ExecutionStatus.Failed or ExecutionStatus.Cancelled or ExecutionStatus.TimedOut && doc.StartedAt is not null;

    internal ExecutionDocument NewRun(
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
