using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Orchestrations.Runtime;

/// <summary>Run statuses.</summary>
public static class ExecutionStatus
{
    /// <summary>Accepted, waiting for a slot or for its first step.</summary>
    public const string Queued = "queued";
    /// <summary>Nodes are running or ready.</summary>
    public const string Running = "running";
    /// <summary>Only waiting nodes remain (a timer, a review, child runs).</summary>
    public const string Waiting = "waiting";
    /// <summary>Finished; outputs are final.</summary>
    public const string Succeeded = "succeeded";
    /// <summary>A node failed and its error strategy was to fail the run.</summary>
    public const string Failed = "failed";
    /// <summary>Stopped on request.</summary>
    public const string Cancelled = "cancelled";
    /// <summary>Ran past its timeout.</summary>
    public const string TimedOut = "timed_out";

    /// <summary>Whether a run in this status will never change again (except by an explicit retry).</summary>
    public static bool IsTerminal(string status) => status is Succeeded or Failed or Cancelled or TimedOut;

    /// <summary>Every status, for validation of filters.</summary>
    public static readonly IReadOnlyList<string> All = [Queued, Running, Waiting, Succeeded, Failed, Cancelled, TimedOut];
}

/// <summary>Node statuses.</summary>
public static class NodeStatus
{
    /// <summary>Not reached yet.</summary>
    public const string Pending = "pending";
    /// <summary>A work item for its next attempt is queued (possibly delayed for a retry).</summary>
    public const string Scheduled = "scheduled";
    /// <summary>An attempt holds the lease.</summary>
    public const string Running = "running";
    /// <summary>Waiting durably.</summary>
    public const string Waiting = "waiting";
    /// <summary>Finished with an output (possibly the default output or the error branch).</summary>
    public const string Succeeded = "succeeded";
    /// <summary>Failed for good; the run failed with it.</summary>
    public const string Failed = "failed";
    /// <summary>Not on the path the run took.</summary>
    public const string Skipped = "skipped";
    /// <summary>The run was stopped while it was active.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Whether the node is done (for this run, until a retry).</summary>
    public static bool IsTerminal(string status) => status is Succeeded or Failed or Skipped or Cancelled;
}

/// <summary>
/// The durable state of one run: a copy of the definition it runs, each node's state, its outputs and the
/// events not yet confirmed in the event log. Written under optimistic concurrency.
/// </summary>
public sealed class ExecutionDocument
{
    /// <summary>The run id.</summary>
    public required string Id { get; init; }
    /// <summary>The workspace it belongs to.</summary>
    public required string WorkspaceId { get; init; }
    /// <summary>The workflow it runs.</summary>
    public required string WorkflowId { get; init; }
    /// <summary>The workflow version it is pinned to.</summary>
    public required int Version { get; init; }
    /// <summary>The definition of that version.</summary>
    public required WorkflowDefinition Definition { get; init; }
    /// <summary>See <see cref="ExecutionStatus"/>.</summary>
    public string Status { get; set; } = ExecutionStatus.Queued;
    /// <summary>The run's inputs.</summary>
    public JsonObject Inputs { get; init; } = [];
    /// <summary>Caller metadata, kept as given.</summary>
    public JsonObject? Metadata { get; init; }
    /// <summary>Who started the run, or retried it last (inherited by child runs); not part of the run's public views.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RunPrincipal? Principal { get; set; }
    /// <summary>The run's outputs once it succeeded.</summary>
    public JsonObject? Outputs { get; set; }
    /// <summary>Why it failed, timed out or was cancelled.</summary>
    public RunError? Error { get; set; }
    /// <summary>When it was accepted.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When its first step ran.</summary>
    public DateTimeOffset? StartedAt { get; set; }
    /// <summary>When it became terminal.</summary>
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>When the stored document last changed.</summary>
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>The run that started this one (sub-workflow or loop), if any.</summary>
    public string? ParentExecutionId { get; init; }
    /// <summary>The parent's node this run reports to.</summary>
    public string? ParentNodeId { get; init; }
    /// <summary>The key the parent node gave this child.</summary>
    public string? ParentKey { get; init; }
    /// <summary>Per-node state, by node id.</summary>
    public Dictionary<string, NodeState> Nodes { get; init; } = new(StringComparer.Ordinal);
    /// <summary>Sequence number of the last event appended.</summary>
    public long EventSeq { get; set; }
    /// <summary>The orchestration's own number of the last of its events in the log (its events are numbered apart from progress events).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long OrchestratorSeq { get; set; }
    /// <summary>The version of the last orchestration checkpoint applied to the run's fields.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Checkpoint { get; set; }
    /// <summary>Events committed with this document that may not be in the event log yet.</summary>
    public List<ExecutionEvent> PendingEvents { get; set; } = [];
    /// <summary>How many times the run was retried from failure.</summary>
    public int Retries { get; set; }

    // What the orchestration last reported as execution.progress; in memory only, so a new orchestration of the run
    // (a resume, a retry) reports afresh, and a replay, which starts from the same input, reports the same.
    internal string? ReportedProgress { get; set; }

    /// <summary>The node definition by id.</summary>
    public NodeDefinition NodeDefinition(string nodeId) => Definition.Nodes.First(n => n.Id == nodeId);
}

/// <summary>One node's state within a run.</summary>
public sealed class NodeState
{
    /// <summary>See <see cref="NodeStatus"/>.</summary>
    public string Status { get; set; } = NodeStatus.Pending;
    /// <summary>Attempts started so far.</summary>
    public int Attempts { get; set; }
    /// <summary>Bumped on every change, so a result computed from an older state is not applied.</summary>
    public int Revision { get; set; }
    /// <summary>The resolved config of the last attempt (what the node ran with).</summary>
    public JsonNode? Input { get; set; }
    /// <summary>The output once succeeded.</summary>
    public JsonNode? Output { get; set; }
    /// <summary>The branch it took (null: default).</summary>
    public string? Branch { get; set; }
    /// <summary>The last error.</summary>
    public NodeError? Error { get; set; }
    /// <summary>True when the output is the configured default output after a failure.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool UsedDefault { get; set; }
    /// <summary>When its first attempt started.</summary>
    public DateTimeOffset? StartedAt { get; set; }
    /// <summary>When it became terminal.</summary>
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>While waiting: what for.</summary>
    public WaitState? Wait { get; set; }
}

/// <summary>What a waiting node waits for, and what has arrived.</summary>
public sealed class WaitState
{
    /// <summary>A durable timer.</summary>
    public DateTimeOffset? Until { get; set; }
    /// <summary>An external event (e.g. <c>review</c>).</summary>
    public string? EventName { get; set; }
    /// <summary>Shown to whoever resolves the event.</summary>
    public JsonObject? Prompt { get; set; }
    /// <summary>The event's payload once it arrived.</summary>
    public JsonObject? EventPayload { get; set; }
    /// <summary>The node's own state across resumes.</summary>
    public JsonObject? State { get; set; }
    /// <summary>Child runs started, by key → execution id.</summary>
    public Dictionary<string, string> Children { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Finished child runs, by key.</summary>
    public Dictionary<string, ChildResult> ChildResults { get; set; } = new(StringComparer.Ordinal);
    /// <summary>When the node began waiting.</summary>
    public DateTimeOffset Since { get; set; }
}

/// <summary>Why a run did not succeed.</summary>
/// <param name="Code">Machine-readable code.</param>
/// <param name="Message">Human-readable message.</param>
/// <param name="NodeId">The node that caused it, if any.</param>
public sealed record RunError(string Code, string Message, string? NodeId);

/// <summary>One entry of a run's event log.</summary>
/// <param name="Seq">Position in the log, from 1.</param>
/// <param name="Type">e.g. execution.started, node.output, execution.completed.</param>
/// <param name="NodeId">The node it concerns, if any.</param>
/// <param name="Data">Type-specific data.</param>
/// <param name="Timestamp">When it happened (engine clock).</param>
public sealed record ExecutionEvent(long Seq, string Type, string? NodeId, JsonObject? Data, DateTimeOffset Timestamp);

/// <summary>Event type names.</summary>
public static class EventTypes
{
    /// <summary>The run left the queue.</summary>
    public const string ExecutionStarted = "execution.started";
    /// <summary>Progress after a step that started or ended nodes: <c>{completedNodes, totalNodes, percent, currentNodes: [{nodeId, type}], currentCount}</c>.</summary>
    public const string ExecutionProgress = "execution.progress";
    /// <summary>The run waits (timer, review, children).</summary>
    public const string ExecutionPaused = "execution.paused";
    /// <summary>The run continues after waiting.</summary>
    public const string ExecutionResumed = "execution.resumed";
    /// <summary>Succeeded, with outputs.</summary>
    public const string ExecutionCompleted = "execution.completed";
    /// <summary>Failed, timed out or was cancelled.</summary>
    public const string ExecutionFailed = "execution.failed";
    /// <summary>A node attempt began.</summary>
    public const string NodeStarted = "node.started";
    /// <summary>A node finished with an output.</summary>
    public const string NodeOutput = "node.output";
    /// <summary>A node attempt failed and another is scheduled.</summary>
    public const string NodeRetry = "node.retry";
    /// <summary>A node failed.</summary>
    public const string NodeFailed = "node.failed";
    /// <summary>A node waits.</summary>
    public const string NodeWaiting = "node.waiting";

    /// <summary>Text a node streams while it runs (an llm node's tokens, batched): <c>{content, attempt}</c>.</summary>
    public const string NodeToken = "node.token";

    /// <summary>What every node event type starts with.</summary>
    public const string NodePrefix = "node.";

    private static readonly HashSet<string> EngineNodeTypes = new(StringComparer.Ordinal) { "started", "output", "retry", "failed", "waiting" };

    /// <summary>Whether a node may report progress as <c>node.&lt;type&gt;</c>: a short lowercase name the engine does not use itself.</summary>
    public static bool IsProgressType(string type) =>
        type.Length is > 0 and <= 40 && type.All(c => c is >= 'a' and <= 'z' or '_') && !EngineNodeTypes.Contains(type);

    /// <summary>Whether the event ends the run's stream.</summary>
    public static bool IsTerminal(string type) => type is ExecutionCompleted or ExecutionFailed;
}
