using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Plugins;

/// <summary>
/// The JSON Schemas of plugin manifests (input, output, config), built and evaluated with JsonSchema.Net. Each schema is
/// built in a registry of its own, so a manifest's <c>$id</c> cannot clash with or replace another's, and nothing is
/// fetched: a <c>$ref</c> outside the schema fails to build.
/// </summary>
internal static class PluginSchemas
{
    /// <summary>Draft 2020-12, where a keyword it does not know (such as <c>"secret": true</c> on a config field) is an annotation, not an error.</summary>
    private static readonly Dialect Dialect = Dialect.Draft202012.With([], allowUnknownKeywords: true);

    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    /// <summary>Built schemas by their JSON text: every execution checks two or three, and building is most of the cost.</summary>
    private static readonly ConcurrentDictionary<string, (JsonSchema? Schema, string? Error)> Built = new(StringComparer.Ordinal);

    private const int MaxBuilt = 1000;

    public static (JsonSchema? Schema, string? Error) Build(JsonObject schema)
    {
        var text = schema.ToJsonString();
        if (Built.TryGetValue(text, out var built))
        {
            return built;
        }

        if (Built.Count >= MaxBuilt)
        {
            Built.Clear();
        }

        return Built[text] = BuildNew(schema);
    }

    private static (JsonSchema? Schema, string? Error) BuildNew(JsonObject schema)
    {
        try
        {
            var options = new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect };
            var built = JsonSchema.Build(JsonSerializer.SerializeToElement(schema), options, new Uri($"urn:plugin-schema:{Guid.NewGuid():N}"));
            // A reference is resolved when it is first evaluated: evaluate once so a dangling one shows now, not at execution.
            built.Evaluate(JsonSerializer.SerializeToElement(new JsonObject()), Evaluation);
            return (built, null);
        }
        catch (Exception exception) when (exception is JsonSchemaException or JsonException or ArgumentException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return (null, exception.Message);
        }
    }

    /// <summary>What is wrong with <paramref name="instance"/> against <paramref name="schema"/>, as field errors under <paramref name="field"/> (empty when it is valid).</summary>
    public static IReadOnlyList<FieldError> Check(JsonObject schema, JsonNode? instance, string field)
    {
        if (Build(schema) is not { Schema: { } built })
        {
            return [new FieldError(field, "The plugin's schema cannot be evaluated.")];
        }

        EvaluationResults results;
        try
        {
            results = built.Evaluate(JsonSerializer.SerializeToElement(instance), Evaluation);
        }
        catch (Exception exception) when (exception is JsonSchemaException or InvalidOperationException or KeyNotFoundException)
        {
            return [new FieldError(field, "The plugin's schema cannot be evaluated: " + exception.Message)];
        }

        if (results.IsValid)
        {
            return [];
        }

        var errors = (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => new FieldError(Path(field, d.InstanceLocation.ToString()), e.Value)))
            .DistinctBy(e => (e.Field, e.Message))
            .Take(20)
            .ToList();
        return errors.Count > 0 ? errors : [new FieldError(field, "The value does not match the plugin's schema.")];
    }

    private static string Path(string field, string pointer) =>
        pointer is "" or "#" or "/" ? field : field + pointer.TrimStart('#').Replace('/', '.');
}
