using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Datasets;

internal sealed record DatasetChanges
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? EmbeddingModel { get; init; }
    public bool ClearEmbeddingModel { get; init; }
    public ChunkingSettings? Chunking { get; init; }
    public IReadOnlyList<MetadataField>? MetadataFields { get; init; }
}

/// <summary>Reads and checks a dataset body (create: name required; update: any subset).</summary>
internal static class DatasetInput
{
    public static readonly string[] MetadataTypes = ["string", "number", "boolean"];

    public static DatasetChanges Read(JsonObject body, bool creating, Validator check)
    {
        var name = Text(body, "name", check);
        if (creating || body.ContainsKey("name"))
        {
            check.Require("name", name, 100);
        }

        var description = Text(body, "description", check);
        check.MaxLength("description", description, 2000);
        var clearModel = body.ContainsKey("embeddingModel") && body["embeddingModel"] is null;
        var model = Text(body, "embeddingModel", check);
        check.When(model is not null && (model.Length is 0 or > 200), "embeddingModel", "embeddingModel must be a model id of 1 to 200 characters, or null.");
        return new DatasetChanges
        {
            Name = name?.Trim(),
            Description = description,
            EmbeddingModel = string.IsNullOrEmpty(model) ? null : model,
            ClearEmbeddingModel = clearModel,
            Chunking = body.ContainsKey("chunking") ? ReadChunking(body["chunking"], check) : null,
            MetadataFields = body.ContainsKey("metadataFields") ? ReadFields(body["metadataFields"], check) : null,
        };
    }

    private static string? Text(JsonObject body, string field, Validator check)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            return v.GetValue<string>();
        }

        check.Add(field, $"{field} must be a string.");
        return null;
    }

    private static ChunkingSettings? ReadChunking(JsonNode? node, Validator check)
    {
        if (node is not JsonObject chunking)
        {
            check.Add("chunking", "chunking must be an object {mode, size, overlap, separators?}.");
            return null;
        }

        var defaults = ChunkingSettings.Default;
        var mode = JsonValues.AsString(chunking["mode"]) ?? defaults.Mode;
        check.When(!ChunkingModes.All.Contains(mode), "chunking.mode", $"chunking.mode must be one of {string.Join(", ", ChunkingModes.All)}.");
        var size = WholeNumber(chunking, "size", check) ?? defaults.Size;
        var overlap = WholeNumber(chunking, "overlap", check) ?? Math.Min(defaults.Overlap, size / 2);
        check.When(size is < ChunkingSettings.MinSize or > ChunkingSettings.MaxSize, "chunking.size",
            $"chunking.size must be from {ChunkingSettings.MinSize} to {ChunkingSettings.MaxSize} characters.");
        check.When(overlap < 0 || overlap >= size, "chunking.overlap", "chunking.overlap must be at least 0 and smaller than chunking.size.");
        List<string>? separators = null;
        if (chunking["separators"] is { } raw)
        {
            separators = raw is JsonArray list ? [.. list.Select(JsonValues.AsString).OfType<string>()] : null;
            check.When(separators is null || separators.Count != ((JsonArray)raw).Count || separators.Count > 20 || separators.Any(s => s.Length is 0 or > 20),
                "chunking.separators", "chunking.separators must be an array of up to 20 non-empty strings (at most 20 characters each).");
        }

        return new ChunkingSettings(mode, size, overlap, separators);
    }

    private static int? WholeNumber(JsonObject parent, string field, Validator check)
    {
        var node = parent[field];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
        {
            return (int)d;
        }

        check.Add($"chunking.{field}", $"chunking.{field} must be a whole number.");
        return null;
    }

    private static List<MetadataField>? ReadFields(JsonNode? node, Validator check)
    {
        if (node is not JsonArray list || list.Count > 50)
        {
            check.Add("metadataFields", "metadataFields must be an array of at most 50 {name, type}.");
            return null;
        }

        var fields = new List<MetadataField>();
        foreach (var (entry, i) in list.Select((e, i) => (e, i)))
        {
            var name = JsonValues.AsString(entry?["name"]);
            var type = JsonValues.AsString(entry?["type"]) ?? "string";
            if (string.IsNullOrWhiteSpace(name) || name.Length > 64 || name.StartsWith('$'))
            {
                check.Add($"metadataFields[{i}].name", "name must be 1 to 64 characters and may not start with '$'.");
            }
            else if (fields.Any(f => f.Name == name))
            {
                check.Add($"metadataFields[{i}].name", $"'{name}' is declared twice.");
            }

            check.When(!MetadataTypes.Contains(type), $"metadataFields[{i}].type", $"type must be one of {string.Join(", ", MetadataTypes)}.");
            fields.Add(new MetadataField(name ?? "", type));
        }

        return fields;
    }

    /// <summary>
    /// Checks a document's metadata: an object whose declared fields have their declared types. Only scalar values
    /// are indexed (and filterable); others stay on the document.
    /// </summary>
    public static JsonObject? ReadMetadata(JsonNode? node, IReadOnlyList<MetadataField> declared, string field, Validator check)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonObject metadata || metadata.Count > 100)
        {
            check.Add(field, $"{field} must be an object with at most 100 fields.");
            return null;
        }

        // Every chunk of the document carries its metadata into the index, so its size is multiplied by the chunk count.
        if (metadata.ToJsonString().Length > MaxMetadataChars)
        {
            check.Add(field, $"{field} must be at most {MaxMetadataChars} characters as JSON.");
            return null;
        }

        foreach (var (name, value) in metadata)
        {
            if (value is JsonValue number && number.GetValueKind() == JsonValueKind.Number && !(number.TryGetValue(out double d) && double.IsFinite(d)))
            {
                check.Add($"{field}.{name}", $"{name} must be a finite number.");
            }

            if (declared.FirstOrDefault(f => f.Name == name) is { } spec && value is not null && !HasType(value, spec.Type))
            {
                check.Add($"{field}.{name}", $"{name} must be a {spec.Type}.");
            }
        }

        return (JsonObject)metadata.DeepClone();
    }

    public const int MaxMetadataChars = 16 * 1024;

    private static bool HasType(JsonNode value, string type) => (type, value.GetValueKind()) switch
    {
        ("string", JsonValueKind.String) => true,
        ("number", JsonValueKind.Number) => true,
        ("boolean", JsonValueKind.True or JsonValueKind.False) => true,
        _ => false,
    };

    /// <summary>The scalar fields of a document's metadata: what chunks carry into the index.</summary>
    public static JsonObject Scalars(JsonObject metadata)
    {
        var scalars = new JsonObject();
        foreach (var (name, value) in metadata)
        {
            if (value is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
            {
                scalars[name] = v.DeepClone();
            }
        }

        return scalars;
    }
}
