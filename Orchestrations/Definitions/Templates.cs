using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Serverless.Orchestrations.Definitions;

/// <summary>
/// Resolves <c>{{inputs.x}}</c> and <c>{{nodeId.path}}</c> references (dotted paths and <c>[index]</c>). A string
/// that is exactly one reference becomes the referenced value with its type; any other string interpolates the
/// values as text. Objects and arrays are resolved recursively. An unknown reference resolves to null / empty.
/// </summary>
public static partial class Templates
{
    /// <summary>Resolves every reference inside <paramref name="node"/> against <paramref name="scope"/>.</summary>
    public static JsonNode? Resolve(JsonNode? node, IReferenceScope scope) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Resolve(p.Value, scope)))),
        JsonArray array => new JsonArray([.. array.Select(item => Resolve(item, scope))]),
        JsonValue value when JsonValues.AsString(value) is { } text => ResolveString(text, scope),
        _ => node?.DeepClone(),
    };

    /// <summary>Resolves one string: a lone reference keeps its type; otherwise the result is interpolated text.</summary>
    public static JsonNode? ResolveString(string text, IReferenceScope scope)
    {
        if (!text.Contains("{{", StringComparison.Ordinal))
        {
            return JsonValue.Create(text);
        }

        var whole = WholeReference().Match(text);
        if (whole.Success)
        {
            return scope.Lookup(whole.Groups[1].Value.Trim())?.DeepClone();
        }

        var result = Reference().Replace(text, m => JsonValues.ToText(scope.Lookup(m.Groups[1].Value.Trim())));
        return JsonValue.Create(result);
    }

    /// <summary>Every reference root (<c>inputs</c> or a node id) the value mentions, for validation.</summary>
    public static IEnumerable<string> ReferencedRoots(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => ReferencedRoots(p.Value)),
        JsonArray array => array.SelectMany(ReferencedRoots),
        JsonValue value when JsonValues.AsString(value) is { } text =>
            Reference().Matches(text).Select(m => ReferencePath.Parse(m.Groups[1].Value.Trim()) is { Count: > 0 } parts ? parts[0].Name ?? "" : ""),
        _ => [],
    };

    /// <summary>Follows a dotted/indexed path (<c>a.b[0].c</c>) into a value.</summary>
    public static JsonNode? Follow(JsonNode? root, IReadOnlyList<PathPart> path)
    {
        var current = root;
        foreach (var part in path)
        {
            current = part switch
            {
                { Index: { } i } when current is JsonArray array => i >= 0 && i < array.Count ? array[i] : null,
                { Name: { } name } when current is JsonObject obj => obj.TryGetPropertyValue(name, out var v) ? v : null,
                _ => null,
            };
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    [GeneratedRegex(@"^\s*\{\{\s*([^{}]+?)\s*\}\}\s*$")]
    private static partial Regex WholeReference();

    [GeneratedRegex(@"\{\{\s*([^{}]+?)\s*\}\}")]
    private static partial Regex Reference();
}

/// <summary>One step of a reference path: a property name or an array index.</summary>
/// <param name="Name">The property name, or null for an index.</param>
/// <param name="Index">The array index, or null for a name.</param>
public sealed record PathPart(string? Name, int? Index);

/// <summary>Parses reference paths such as <c>node.items[2].title</c>.</summary>
public static partial class ReferencePath
{
    /// <summary>The parts of the path; empty when it is malformed.</summary>
    public static IReadOnlyList<PathPart> Parse(string path)
    {
        var parts = new List<PathPart>();
        foreach (Match m in Segment().Matches(path))
        {
            parts.Add(m.Groups["name"].Success ? new PathPart(m.Groups["name"].Value, null) : new PathPart(null, int.Parse(m.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture)));
        }

        var rebuilt = new StringBuilder();
        foreach (var p in parts)
        {
            rebuilt.Append(p.Name is { } n ? (rebuilt.Length == 0 ? n : "." + n) : $"[{p.Index}]");
        }

        return rebuilt.ToString() == path ? parts : [];
    }

    [GeneratedRegex(@"(?<name>[A-Za-z_][A-Za-z0-9_\-]*)|\[(?<index>\d{1,9})\]")]
    private static partial Regex Segment();
}

/// <summary>What references resolve against: the run's inputs and the outputs of finished nodes.</summary>
public interface IReferenceScope
{
    /// <summary>The value at <paramref name="reference"/> (e.g. <c>inputs.city</c>, <c>fetch.body.items[0]</c>), or null.</summary>
    JsonNode? Lookup(string reference);
}
