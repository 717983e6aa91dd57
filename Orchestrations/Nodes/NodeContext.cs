using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Orchestrations.Nodes;

/// <summary>Everything a node attempt may read. Time comes from <see cref="Clock"/>, never from the system clock.</summary>
public sealed class NodeContext
{
    /// <summary>The run.</summary>
    public required string ExecutionId { get; init; }

    /// <summary>The run's workspace; child runs and lookups stay inside it.</summary>
    public required string WorkspaceId { get; init; }

    /// <summary>The workflow the run runs (what model calls and analytics attribute the node's work to).</summary>
    public string? WorkflowId { get; init; }

    /// <summary>The app the run was started for, when its starter said so (the run metadata's <c>appId</c>).</summary>
    public string? AppId { get; init; }

    /// <summary>The node as defined.</summary>
    public required NodeDefinition Node { get; init; }

    /// <summary>The node's config with every reference resolved.</summary>
    public required JsonObject Config { get; init; }

    /// <summary>The run's inputs.</summary>
    public required JsonObject RunInputs { get; init; }

    /// <summary>This attempt's number, from 1.</summary>
    public required int Attempt { get; init; }

    /// <summary>The engine's clock.</summary>
    public required TimeProvider Clock { get; init; }

    /// <summary>Resolves references lazily (a loop resolves per-item templates itself).</summary>
    public required IReferenceScope Scope { get; init; }

    /// <summary>Outputs of the node's live predecessors, by node id (what a merge joins).</summary>
    public required IReadOnlyDictionary<string, JsonNode?> PredecessorOutputs { get; init; }

    /// <summary>
    /// Outputs of the succeeded nodes upstream of this one (every node with a path of edges to it), by node id: what a
    /// code node sees as <c>nodes</c>. Built on first use, since most types never ask.
    /// </summary>
    public IReadOnlyDictionary<string, JsonNode?> UpstreamOutputs
    {
        get => _upstreamOutputs ??= UpstreamSource?.Invoke() ?? new Dictionary<string, JsonNode?>();
        init => _upstreamOutputs = value;
    }

    private IReadOnlyDictionary<string, JsonNode?>? _upstreamOutputs;

    /// <summary>Builds <see cref="UpstreamOutputs"/> when first asked for.</summary>
    internal Func<IReadOnlyDictionary<string, JsonNode?>>? UpstreamSource { get; init; }

    /// <summary>On resume: the state the node kept when it began waiting.</summary>
    public JsonObject? WaitState { get; init; }

    /// <summary>On resume: finished child runs, by the key the node gave them.</summary>
    public IReadOnlyDictionary<string, ChildResult> Children { get; init; } = new Dictionary<string, ChildResult>();

    /// <summary>On resume after an external event: its payload.</summary>
    public JsonObject? EventPayload { get; init; }

    /// <summary>Who started the run, when the host said so: nodes acting for the starter apply its limits.</summary>
    public RunPrincipal? Principal { get; init; }

    /// <summary>
    /// Identifies this attempt across deliveries: activities run at least once, so a node with effects passes this on
    /// where the other side accepts an idempotency key (run, node, generation and attempt).
    /// </summary>
    public string IdempotencyKey => $"{ExecutionId}:{Node.Id}:{Generation}:{Attempt}";

    /// <summary>The run's retry generation (0 until the run is retried).</summary>
    public int Generation { get; init; }

    /// <summary>Set for attempts that run as activities; the orchestration's own nodes have no live attempt to report on.</summary>
    internal Func<string, JsonObject?, CancellationToken, Task<bool>>? Emitter { get; init; }

    /// <summary>
    /// Appends a progress event <c>node.&lt;type&gt;</c> (e.g. <c>node.token</c>) for this node to the run's event log,
    /// in log order with the run's own events. Each call is one commit, so batch small pieces. Delivery is at least
    /// once: an attempt that runs again after a crash reports its progress again. False when nothing was written (the
    /// attempt is no longer the node's live one, or the node runs where progress is not reported).
    /// </summary>
    /// <param name="type">Lowercase letters and '_'; not one of the engine's own node event names.</param>
    /// <param name="data">The event's data.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public Task<bool> EmitAsync(string type, JsonObject? data, CancellationToken cancellationToken)
    {
        if (!EventTypes.IsProgressType(type))
        {
            throw new ArgumentException($"'{type}' is not a progress event type (lowercase letters and '_', not an engine event).", nameof(type));
        }

        return Emitter is { } emit ? emit(EventTypes.NodePrefix + type, data, cancellationToken) : Task.FromResult(false);
    }
}
