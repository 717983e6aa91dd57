using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Orchestrations.Definitions;

/// <summary>Reading loosely typed JSON values the way workflow authors expect (numbers in strings compare as numbers, etc.).</summary>
public static class JsonValues
{
    /// <summary>The value as a number: a JSON number, or a string that parses as one.</summary>
    public static double? AsNumber(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.Number => double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
            JsonValueKind.String when double.TryParse(value.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        };
    }

    /// <summary>The value as a string only when it is a JSON string.</summary>
    public static string? AsString(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>The value as text for interpolation: strings as they are, null as empty, anything else as JSON.</summary>
    public static string ToText(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    /// <summary>Whether the value is empty: null, "", [] or {}.</summary>
    public static bool IsEmpty(JsonNode? node) => node switch
    {
        null => true,
        JsonArray array => array.Count == 0,
        JsonObject obj => obj.Count == 0,
        JsonValue value => value.GetValueKind() == JsonValueKind.String && value.GetValue<string>().Length == 0,
        _ => false,
    };

    /// <summary>A deep copy, so a value taken from one document can be placed in another.</summary>
    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();
}
