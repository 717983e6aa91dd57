using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Workflows;

/// <summary>
/// The part of JSON Schema a workflow's inputs are described with: an object with <c>properties</c> (each a
/// <c>type</c> and optional <c>enum</c>) and <c>required</c>. Enough to reject a run whose inputs cannot work.
/// </summary>
internal static class InputsSchema
{
    private static readonly string[] Types = ["string", "number", "integer", "boolean", "array", "object"];

    public static IEnumerable<FieldError> CheckSchema(JsonObject? schema)
    {
        if (schema is null)
        {
            yield break;
        }

        if (schema["properties"] is { } properties && properties is not JsonObject)
        {
            yield return new FieldError("inputsSchema.properties", "properties must be an object.");
            yield break;
        }

        foreach (var (name, property) in schema["properties"] as JsonObject ?? [])
        {
            if (property is not JsonObject p || p["type"] is { } type && (type.GetValueKind() != JsonValueKind.String || !Types.Contains(type.GetValue<string>())))
            {
                yield return new FieldError($"inputsSchema.properties.{name}", $"Each property needs a type among {string.Join(", ", Types)}.");
            }
        }

        if (schema["required"] is { } required && (required is not JsonArray array || array.Any(r => r?.GetValueKind() != JsonValueKind.String)))
        {
            yield return new FieldError("inputsSchema.required", "required must be an array of property names.");
        }
    }

    public static IReadOnlyList<FieldError> CheckInputs(JsonObject? schema, JsonObject inputs)
    {
        var errors = new List<FieldError>();
        if (schema is null)
        {
            return errors;
        }

        foreach (var name in (schema["required"] as JsonArray ?? []).Select(r => r?.GetValue<string>()).OfType<string>())
        {
            if (inputs[name] is null)
            {
                errors.Add(new FieldError($"inputs.{name}", $"{name} is required."));
            }
        }

        foreach (var (name, property) in schema["properties"] as JsonObject ?? [])
        {
            if (inputs[name] is not { } value || property is not JsonObject p)
            {
                continue;
            }

            if (p["type"]?.GetValue<string>() is { } type && !HasType(value, type))
            {
                errors.Add(new FieldError($"inputs.{name}", $"{name} must be of type {type}."));
            }
            else if (p["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
            {
                errors.Add(new FieldError($"inputs.{name}", $"{name} must be one of {allowed.ToJsonString()}."));
            }
        }

        return errors;
    }

    private static bool HasType(JsonNode value, string type) => (type, value.GetValueKind()) switch
    {
        ("string", JsonValueKind.String) => true,
        ("number", JsonValueKind.Number) => true,
        ("integer", JsonValueKind.Number) => value.GetValue<double>() % 1 == 0,
        ("boolean", JsonValueKind.True or JsonValueKind.False) => true,
        ("array", JsonValueKind.Array) => true,
        ("object", JsonValueKind.Object) => true,
        _ => false,
    };
}
