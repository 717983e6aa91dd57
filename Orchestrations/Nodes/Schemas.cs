using System.Text.Json.Nodes;

namespace Serverless.Orchestrations.Nodes;

/// <summary>Helpers for writing node schemas as JSON text.</summary>
internal static class Schemas
{
    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    public static readonly JsonObject AnyObject = Parse("""{"type":"object"}""");
}
