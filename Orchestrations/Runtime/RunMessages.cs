using System.Text.Json.Nodes;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Orchestrations.Runtime;

/// <summary>The names of the workflow orchestration and its activities, shared by both hosts.</summary>
public static class RunTasks
{
    /// <summary>The orchestrator that interprets a run's graph (<see cref="WorkflowOrchestrator"/>).</summary>
    public const string Orchestrator = "WorkflowRun";
    /// <summary>Takes a concurrency slot for a queued run (<see cref="AdmitRunActivity"/>).</summary>
    public const string AdmitRun = "AdmitRun";
    /// <summary>Runs one attempt of a node with effects (<see cref="RunNodeActivity"/>).</summary>
    public const string RunNode = "RunNode";
    /// <summary>Writes the orchestration's progress to the run document and event log (<see cref="SaveRunActivity"/>).</summary>
    public const string SaveRun = "SaveRun";
    /// <summary>Creates the documents of a node's child runs (<see cref="CreateChildRunsActivity"/>).</summary>
    public const string CreateChildRuns = "CreateChildRuns";
    /// <summary>Writes the final state and does what follows a run's end (<see cref="EndRunActivity"/>).</summary>
    public const string EndRun = "EndRun";

    /// <summary>External event: stop the run (payload <see cref="StopSignal"/>).</summary>
    public const string StopEvent = "stop";
    /// <summary>External event: a queued run got its slot.</summary>
    public const string AdmittedEvent = "admitted";

    /// <summary>
    /// The orchestration instance of a run's current generation: a retry starts a new instance, so the one of the
    /// stopped or failed try may still be finishing while the retry runs.
    /// </summary>
    public static string InstanceId(ExecutionDocument run) => run.Retries == 0 ? run.Id : $"{run.Id}.retry{run.Retries}";

    /// <summary>The external event a waiting node listens to: the node's event name and its id.</summary>
    public static string NodeEvent(string eventName, string nodeId) => eventName + ":" + nodeId;
}

/// <summary>The orchestration's input.</summary>
/// <param name="Run">The run as stored when the orchestration was scheduled.</param>
/// <param name="Admitted">The run already holds its workspace slot (or needs none: a child run).</param>
/// <param name="Resume">The run continues from its stored node states (a retry) instead of starting.</param>
public sealed record RunInput(ExecutionDocument Run, bool Admitted, bool Resume);

/// <summary>What a run came to, as its parent sees it.</summary>
/// <param name="ExecutionId">The run.</param>
/// <param name="Status">Its terminal status.</param>
/// <param name="Outputs">Its outputs when it succeeded.</param>
/// <param name="Error">Why it did not.</param>
public sealed record RunOutcome(string ExecutionId, string Status, JsonObject? Outputs, string? Error);

/// <summary>Asks a run to end: the API stopped it, or its parent ended.</summary>
/// <param name="Status">The status it ends with.</param>
/// <param name="Code">The error code.</param>
/// <param name="Reason">The error message.</param>
public sealed record StopSignal(string Status, string Code, string Reason);

/// <summary>
/// The orchestration's progress since the last checkpoint a write confirmed: run fields, changed node states and new
/// events (numbered by the orchestration). Writes are idempotent and may arrive out of order.
/// </summary>
/// <param name="ExecutionId">The run.</param>
/// <param name="Version">Increases with every change the orchestration makes.</param>
/// <param name="Generation">The run's retry count: a checkpoint of an earlier generation is stale.</param>
/// <param name="Status">The run's status.</param>
/// <param name="Outputs">Its outputs.</param>
/// <param name="Error">Its error.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="CompletedAt">When it ended.</param>
/// <param name="Nodes">Node states changed since the confirmed checkpoint.</param>
/// <param name="Events">Events after the confirmed checkpoint's, in order.</param>
public sealed record RunCheckpoint(
    string ExecutionId, long Version, int Generation, string Status, JsonObject? Outputs, RunError? Error, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt,
    Dictionary<string, NodeState> Nodes, List<ExecutionEvent> Events);

/// <summary>A run attempt of a node with effects.</summary>
/// <param name="ExecutionId">The run.</param>
/// <param name="NodeId">The node.</param>
/// <param name="Attempt">The attempt, from 1.</param>
/// <param name="Config">The node's config with references resolved.</param>
/// <param name="Checkpoint">The orchestration's progress, written before the node runs.</param>
public sealed record NodeAttempt(string ExecutionId, string NodeId, int Attempt, JsonObject Config, RunCheckpoint Checkpoint);

/// <summary>A node attempt's result as it travels back to the orchestration.</summary>
/// <param name="Outcome">Completed, waiting or failed.</param>
/// <param name="Output">The output.</param>
/// <param name="Branch">The branch taken.</param>
/// <param name="Wait">What it waits for.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Checkpoint">The checkpoint the attempt wrote.</param>
/// <param name="Abandoned">The run had ended when the attempt came: the node did not run.</param>
public sealed record NodeAttemptResult(NodeOutcome Outcome, JsonNode? Output, string? Branch, WaitRequest? Wait, NodeError? Error, long Checkpoint, bool Abandoned = false)
{
    /// <summary>The result as the state machine takes it.</summary>
    public NodeResult ToResult() => Outcome switch
    {
        NodeOutcome.Completed => NodeResult.Complete(Output, Branch),
        NodeOutcome.Waiting => NodeResult.WaitFor(Wait ?? new WaitRequest()),
        _ => NodeResult.Fail(Error?.Code ?? "NODE_ERROR", Error?.Message ?? "The node failed.", Error?.Retryable ?? false, Error?.Details),
    };

    /// <summary>Wraps a node's result.</summary>
    public static NodeAttemptResult From(NodeResult result, long checkpoint) =>
        new(result.Outcome, result.Output, result.Branch, result.Wait, result.Error, checkpoint);
}

/// <summary>Child runs to create for one node.</summary>
/// <param name="Parent">The parent run's id.</param>
/// <param name="WorkspaceId">Its workspace.</param>
/// <param name="NodeId">The waiting node.</param>
/// <param name="Principal">Who the children act for.</param>
/// <param name="Children">Each child's id and request.</param>
/// <param name="Checkpoint">The parent's progress, written first.</param>
public sealed record ChildRunsRequest(string Parent, string WorkspaceId, string NodeId, RunPrincipal? Principal, List<ChildToCreate> Children, RunCheckpoint Checkpoint);

/// <summary>One child run to create.</summary>
/// <param name="ExecutionId">Its deterministic id.</param>
/// <param name="Request">What to run.</param>
public sealed record ChildToCreate(string ExecutionId, ChildRunRequest Request);

/// <summary>The created children: those that can run, and those that ended at once (their workflow was not found).</summary>
/// <param name="Runnable">Documents of children to start.</param>
/// <param name="Ended">Results of children that cannot run.</param>
/// <param name="Checkpoint">The checkpoint written.</param>
public sealed record CreatedChildRuns(List<ExecutionDocument> Runnable, List<ChildResult> Ended, long Checkpoint);
