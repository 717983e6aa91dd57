using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Serverless.Functions.Features.Workflows;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Graphs;

/// <summary>A workflow in AutoGPT's graph shape: <c>nodes[{id, block_id, input_default, metadata}]</c>, <c>links[{source_id, sink_id, source_name, sink_name}]</c>.</summary>
internal sealed record GraphDto(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("is_active")] bool IsActive,
    [property: JsonPropertyName("is_template")] bool IsTemplate,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("nodes")] IReadOnlyList<GraphNodeDto> Nodes,
    [property: JsonPropertyName("links")] IReadOnlyList<GraphLinkDto> Links,
    [property: JsonPropertyName("input_schema"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonObject? InputSchema,
    [property: JsonPropertyName("timeout_seconds"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TimeoutSeconds,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt)
{
    public static GraphDto From(WorkflowRecord w) =>
        new(w.Id, w.Version, w.Name, w.Description, w.Status == WorkflowStatus.Active, w.IsTemplate, w.Status,
            [.. w.Definition.Nodes.Select(GraphShape.ToNode)], [.. w.Definition.Edges.Select(GraphShape.ToLink)], w.InputsSchema, w.Definition.TimeoutSeconds,
            w.CreatedAt, w.UpdatedAt);
}

internal sealed record GraphNodeDto(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("block_id")] string? BlockId,
    [property: JsonPropertyName("input_default")] JsonObject? InputDefault,
    [property: JsonPropertyName("metadata")] JsonObject? Metadata);

/// <summary>A link; fields AutoGPT adds beyond the four (its <c>id</c>, <c>is_static</c>) are kept with the edge and given back.</summary>
internal sealed class GraphLinkDto
{
    [JsonPropertyName("source_id")]
    public string? SourceId { get; init; }

    [JsonPropertyName("sink_id")]
    public string? SinkId { get; init; }

    [JsonPropertyName("source_name")]
    public string? SourceName { get; init; }

    [JsonPropertyName("sink_name")]
    public string? SinkName { get; init; }

    // A dictionary, not a JsonObject: the serializer writes JsonObject extension data as a nested object, not inline.
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>
/// A graph as AutoGPT's builder sends it, bare or wrapped as <c>{"graph": {…}}</c>. <c>is_active</c> false stores the
/// workflow PAUSED; <c>status</c> names any lifecycle status and wins over it.
/// </summary>
internal sealed record GraphRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("is_active")] bool? IsActive,
    [property: JsonPropertyName("is_template")] bool? IsTemplate,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("nodes")] IReadOnlyList<GraphNodeDto?>? Nodes,
    [property: JsonPropertyName("links")] IReadOnlyList<GraphLinkDto?>? Links,
    [property: JsonPropertyName("input_schema")] JsonObject? InputSchema,
    [property: JsonPropertyName("timeout_seconds")] int? TimeoutSeconds,
    [property: JsonPropertyName("graph")] GraphRequest? Graph)
{
    /// <summary>The graph itself, unwrapped.</summary>
    public GraphRequest Body => Graph ?? this;

    public string? LifecycleStatus => Status ?? (IsActive is { } active ? active ? WorkflowStatus.Active : WorkflowStatus.Paused : null);

    /// <summary>The definition the graph stands for, or null when it names neither nodes nor links.</summary>
    public WorkflowDefinition? Definition(NodeRegistry registry) =>
        Nodes is null && Links is null ? null : GraphShape.ToDefinition(Nodes ?? [], Links ?? [], TimeoutSeconds, registry);
}

/// <summary>
/// Converts between AutoGPT's graph shape and our definitions without loss: <c>type</c> ↔ <c>block_id</c>, <c>config</c> ↔
/// <c>input_default</c>, <c>name</c> and the node's <see cref="NodeDefinition.Metadata"/> ↔ <c>metadata</c>; an edge's branch
/// ↔ <c>source_name</c> (an output name that is no branch of the source is kept in the edge's metadata), its
/// <see cref="EdgeDefinition.TargetHandle"/> ↔ <c>sink_name</c>, and a link's other fields ↔ the edge's metadata.
/// </summary>
internal static class GraphShape
{
    private const string NameKey = "name";
    private const string SourceNameKey = "source_name";

    public static GraphNodeDto ToNode(NodeDefinition node)
    {
        var metadata = node.Metadata?.DeepClone().AsObject() ?? [];
        if (node.Name is { } name)
        {
            metadata[NameKey] = name;
        }

        return new GraphNodeDto(node.Id, node.Type, node.Config?.DeepClone().AsObject() ?? [], metadata);
    }

    public static GraphLinkDto ToLink(EdgeDefinition edge)
    {
        var extra = edge.Metadata?.DeepClone().AsObject();
        var output = JsonValues.AsString(extra?[SourceNameKey]);
        extra?.Remove(SourceNameKey);
        return new GraphLinkDto
        {
            SourceId = edge.Source,
            SinkId = edge.Target,
            SourceName = edge.SourceHandle ?? output ?? Handles.Default,
            SinkName = edge.TargetHandle,
            Extra = extra is { Count: > 0 } ? JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(extra) : null,
        };
    }

    public static WorkflowDefinition ToDefinition(IReadOnlyList<GraphNodeDto?> nodes, IReadOnlyList<GraphLinkDto?> links, int? timeoutSeconds, NodeRegistry registry)
    {
        var ours = nodes.Select(ToNodeDefinition).ToList();
        var byId = ours.Where(n => n.Id is not null).GroupBy(n => n.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return new WorkflowDefinition(ours, [.. links.Select(l => ToEdge(l, byId, registry))]) { TimeoutSeconds = timeoutSeconds };
    }

    private static NodeDefinition ToNodeDefinition(GraphNodeDto? node)
    {
        var metadata = node?.Metadata?.DeepClone().AsObject();
        var name = JsonValues.AsString(metadata?[NameKey]) is { } text && metadata![NameKey] is JsonValue ? text : null;
        if (name is not null)
        {
            metadata!.Remove(NameKey);
        }

        return new NodeDefinition(node?.Id!, node?.BlockId!, name, node?.InputDefault?.DeepClone().AsObject())
        {
            Metadata = metadata is { Count: > 0 } ? metadata : null,
        };
    }

    private static EdgeDefinition ToEdge(GraphLinkDto? link, Dictionary<string, NodeDefinition> nodes, NodeRegistry registry)
    {
        var metadata = link?.Extra is { } extra ? JsonSerializer.SerializeToNode(extra)!.AsObject() : [];
        var output = link?.SourceName;
        string? handle = null;
        if (output is { Length: > 0 } && output != Handles.Default)
        {
            var source = link!.SourceId is { } id ? nodes.GetValueOrDefault(id) : null;
            var branches = source is not null && registry.Find(source.Type) is { } type ? type.BranchesFor(source) : [];
            if (output == Handles.Error || branches.Contains(output))
            {
                handle = output;
            }
            else
            {
                // An AutoGPT output pin ("result", "output"): our edges follow outcomes, not pins, so it is only kept.
                metadata[SourceNameKey] = output;
            }
        }

        return new EdgeDefinition(link?.SourceId!, link?.SinkId!, handle)
        {
            TargetHandle = link?.SinkName,
            Metadata = metadata.Count > 0 ? metadata : null,
        };
    }
}
