using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Workflows;

internal static class ListBlocks
{
    internal sealed record BlockDto(string Type, string Name, string Description, string Category, JsonObject ConfigSchema, JsonObject OutputSchema, IReadOnlyList<string> Branches, bool Instant);

    /// <summary>The settings every node accepts in its config, on top of its own.</summary>
    private static readonly JsonObject CommonConfig = JsonNode.Parse("""
        {
          "retry": {"type":"object","properties":{"maxAttempts":{"type":"integer","minimum":1,"maximum":20},"backoffSeconds":{"type":"number","minimum":0,"maximum":3600}}},
          "timeoutSeconds": {"type":"number","exclusiveMinimum":0,"maximum":3600},
          "onError": {"enum":["fail","default","branch"],"default":"fail","description":"fail the run, use defaultOutput, or follow the edges with sourceHandle 'error'"},
          "defaultOutput": {"description":"the output used when onError is default"}
        }
        """)!.AsObject();

    public static IResult Handle(NodeRegistry registry) => Api.Ok(All(registry));

    /// <summary>The catalog: every registered node type as clients (and Otto) read it.</summary>
    public static IReadOnlyList<BlockDto> All(NodeRegistry registry) => [.. registry.All.Select(t => Describe(t.Descriptor))];

    private static BlockDto Describe(NodeTypeDescriptor d)
    {
        var schema = (JsonObject)d.ConfigSchema.DeepClone();
        var properties = schema["properties"] as JsonObject ?? [];
        schema["properties"] = properties;
        foreach (var (name, value) in CommonConfig)
        {
            properties[name] = value?.DeepClone();
        }

        return new BlockDto(d.Type, d.Name, d.Description, d.Category, schema, d.OutputSchema, d.Branches, d.IsInstant);
    }
}
