using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Serverless.Orchestrations.Definitions;

/// <summary>A workflow graph: nodes joined by edges. Immutable once a version is saved; runs pin a copy.</summary>
/// <param name="Nodes">The nodes.</param>
/// <param name="Edges">The edges; an edge from a branching node names the branch in <see cref="EdgeDefinition.SourceHandle"/>.</param>
public sealed record WorkflowDefinition(IReadOnlyList<NodeDefinition> Nodes, IReadOnlyList<EdgeDefinition> Edges)
{
    /// <summary>Optional run timeout in seconds; a run still going after it is ended <c>timed_out</c> by its orchestration (a durable timer).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? TimeoutSeconds { get; init; }
}

/// <summary>One node: its type picks the behaviour; <see cref="Config"/> holds its settings, with <c>{{…}}</c> references.</summary>
/// <param name="Id">Unique within the workflow; other nodes reference its output as <c>{{Id.path}}</c>.</param>
/// <param name="Type">A registered node type (see <c>GET /api/v1/blocks</c>).</param>
/// <param name="Name">Display name.</param>
/// <param name="Config">Type-specific settings plus the common <c>retry</c>, <c>timeoutSeconds</c>, <c>onError</c>, <c>defaultOutput</c>.</param>
public sealed record NodeDefinition(string Id, string Type, string? Name, JsonObject? Config)
{
    /// <summary>
    /// Editor data the engine never reads (a position, AutoGPT's node <c>metadata</c> but its <c>name</c>), kept with the
    /// node so a graph exported to another shape and imported again comes back the same.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonObject? Metadata { get; init; }
}

/// <summary>An edge; <paramref name="SourceHandle"/> selects a branch of the source (true/false, approved/rejected, error).</summary>
/// <param name="Source">The upstream node id.</param>
/// <param name="Target">The downstream node id.</param>
/// <param name="SourceHandle">The branch of the source this edge follows; null follows the default (non-error) outcome.</param>
public sealed record EdgeDefinition(string Source, string Target, string? SourceHandle)
{
    /// <summary>
    /// The input of the target the edge feeds (AutoGPT's <c>sink_name</c>). Nodes read upstream values by reference, not
    /// through input pins, so the engine never reads it; it is kept so the graph round-trips.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TargetHandle { get; init; }

    /// <summary>Editor data the engine never reads (e.g. an AutoGPT link's <c>id</c> or <c>is_static</c>), kept so the graph round-trips.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonObject? Metadata { get; init; }
}

/// <summary>The branch names edges can follow.</summary>
public static class Handles
{
    /// <summary>The outcome of a node that does not branch.</summary>
    public const string Default = "default";

    /// <summary>The outcome of a failed node whose error strategy is <c>branch</c>.</summary>
    public const string Error = "error";

    /// <summary>The branch an edge follows, with null meaning <see cref="Default"/>.</summary>
    public static string Of(EdgeDefinition edge) => edge.SourceHandle ?? Default;
}
