using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Functions.Platform.Ai;

/// <summary>Tool definitions in the chat completions format, and the JSON a tool answers the model with.</summary>
internal static class AgentTools
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A function tool's definition in the chat completions format.</summary>
    public static JsonObject Tool(string name, string description, JsonObject properties, params string[] required) => new()
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = name,
            ["description"] = description,
            ["parameters"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = properties,
                ["required"] = new JsonArray([.. required.Select(r => (JsonNode)r)]),
            },
        },
    };

    public static JsonObject Str(string description) => new() { ["type"] = "string", ["description"] = description };

    /// <summary>What a failed tool call tells the model.</summary>
    public static string Error(string message) => JsonSerializer.Serialize(new { ok = false, error = message }, Json);

    /// <summary>A tool's answer: <paramref name="value"/> (an anonymous object) serialized as the model reads it.</summary>
    public static string Answer(object value) => JsonSerializer.Serialize(value, Json);

    /// <summary>Whether a tool's answer reports success: every answer that is not an object with <c>"ok": false</c>.</summary>
    public static bool Succeeded(string answer)
    {
        try
        {
            return JsonNode.Parse(answer) is not JsonObject { } result || result["ok"] is not JsonValue ok || !ok.TryGetValue<bool>(out var value) || value;
        }
        catch (JsonException)
        {
            return true;
        }
    }
}
