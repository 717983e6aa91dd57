using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Nodes;

/// <summary>Everything a node attempt may read. Time comes from <see cref="Clock"/>, never from the system clock.</summary>
public sealed class NodeContext
{
    /// <summary>The run.</summary>
    public required string ExecutionId { get; init; }

    /// <summary>The run's workspace; child runs and lookups stay inside it.</summary>
    public required string WorkspaceId { get; init; }

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

    /// <summary>On resume: the state the node kept when it began waiting.</summary>
    public JsonObject? WaitState { get; init; }

    /// <summary>On resume: finished child runs, by the key the node gave them.</summary>
    public IReadOnlyDictionary<string, ChildResult> Children { get; init; } = new Dictionary<string, ChildResult>();

    /// <summary>On resume after an external event: its payload.</summary>
    public JsonObject? EventPayload { get; init; }
}
