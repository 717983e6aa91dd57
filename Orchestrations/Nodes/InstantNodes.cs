using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Nodes;

/// <summary><c>start</c>: its output is the run's inputs.</summary>
public sealed class StartNode : INodeType
{
    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("start", "Start", "Entry point; outputs the run's inputs.", "flow",
        Schemas.Parse("""{"type":"object","properties":{}}"""), Schemas.AnyObject, [], IsInstant: true);

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(NodeResult.Complete(context.RunInputs.DeepClone()));
}

/// <summary><c>end</c>: <c>config.outputs</c> (a map of references) becomes the run's outputs.</summary>
public sealed class EndNode : INodeType
{
    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("end", "End", "Exit point; config.outputs (a map, values may be references) become the run's outputs.", "flow",
        Schemas.Parse("""{"type":"object","properties":{"outputs":{"type":"object","description":"name → value or {{reference}}"}}}"""),
        Schemas.AnyObject, [], IsInstant: true);

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(NodeResult.Complete(context.Config["outputs"] as JsonObject is { } outputs ? outputs.DeepClone() : new JsonObject()));

    /// <inheritdoc />
    public IEnumerable<string> Validate(NodeDefinition node) =>
        node.Config?["outputs"] is null or JsonObject ? [] : ["config.outputs must be an object."];
}

/// <summary><c>template</c>: renders <c>config.template</c> into <c>text</c>.</summary>
public sealed class TemplateNode : INodeType
{
    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("template", "Template", "Renders config.template, interpolating {{references}}, into text.", "transform",
        Schemas.Parse("""{"type":"object","required":["template"],"properties":{"template":{"type":"string"}}}"""),
        Schemas.Parse("""{"type":"object","properties":{"text":{"type":"string"}}}"""), [], IsInstant: true);

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(NodeResult.Complete(new JsonObject { ["text"] = JsonValues.ToText(context.Config["template"]) }));
}

/// <summary><c>set</c>: <c>config.values</c> (a map) becomes the output, each value keeping its type.</summary>
public sealed class SetNode : INodeType
{
    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("set", "Set values", "Outputs config.values (a map; a value that is one {{reference}} keeps its type).", "transform",
        Schemas.Parse("""{"type":"object","required":["values"],"properties":{"values":{"type":"object"}}}"""), Schemas.AnyObject, [], IsInstant: true);

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(NodeResult.Complete(context.Config["values"]?.DeepClone() ?? new JsonObject()));

    /// <inheritdoc />
    public IEnumerable<string> Validate(NodeDefinition node) =>
        node.Config?["values"] is JsonObject ? [] : ["config.values must be an object."];
}

/// <summary><c>merge</c>: joins its incoming branches; outputs each live branch's output and their shallow merge.</summary>
public sealed class MergeNode : INodeType
{
    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("merge", "Merge", "Waits for all incoming branches; outputs {branches: {nodeId: output}, merged: shallow merge of object outputs}.", "flow",
        Schemas.Parse("""{"type":"object","properties":{}}"""),
        Schemas.Parse("""{"type":"object","properties":{"branches":{"type":"object"},"merged":{"type":"object"}}}"""), [], IsInstant: true);

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var branches = new JsonObject();
        var merged = new JsonObject();
        foreach (var (nodeId, output) in context.PredecessorOutputs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            branches[nodeId] = output?.DeepClone();
            if (output is JsonObject obj)
            {
                foreach (var (key, value) in obj)
                {
                    merged[key] = value?.DeepClone();
                }
            }
        }

        return ValueTask.FromResult(NodeResult.Complete(new JsonObject { ["branches"] = branches, ["merged"] = merged }));
    }
}

/// <summary><c>condition</c>: evaluates <c>config.conditions</c> joined by <c>config.logic</c>; takes the <c>true</c> or <c>false</c> branch.</summary>
public sealed class ConditionNode : INodeType
{
    private static readonly string[] Operators = ["eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_contains", "empty", "not_empty", "regex"];
    private static readonly TimeSpan RegexBudget = TimeSpan.FromMilliseconds(100);

    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("condition", "Condition", "Branches on conditions: operators eq ne gt gte lt lte contains not_contains empty not_empty regex; logic and|or.", "flow",
        Schemas.Parse("""
            {"type":"object","required":["conditions"],"properties":{
              "conditions":{"type":"array","minItems":1,"items":{"type":"object","required":["left","operator"],"properties":{
                "left":{},"operator":{"enum":["eq","ne","gt","gte","lt","lte","contains","not_contains","empty","not_empty","regex"]},"right":{}}}},
              "logic":{"enum":["and","or"],"default":"and"}}}
            """),
        Schemas.Parse("""{"type":"object","properties":{"result":{"type":"boolean"}}}"""), ["true", "false"], IsInstant: true);

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var conditions = context.Config["conditions"] as JsonArray ?? [];
        var any = JsonValues.AsString(context.Config["logic"]) == "or";
        var results = new List<bool>();
        foreach (var condition in conditions.OfType<JsonObject>())
        {
            var op = JsonValues.AsString(condition["operator"]) ?? "";
            try
            {
                results.Add(Evaluate(condition["left"], op, condition["right"]));
            }
            catch (RegexMatchTimeoutException)
            {
                return ValueTask.FromResult(NodeResult.Fail("REGEX_TIMEOUT", "The regex took too long to evaluate.", retryable: false));
            }
            catch (ArgumentException)
            {
                return ValueTask.FromResult(NodeResult.Fail("INVALID_REGEX", "The regex is not valid.", retryable: false));
            }
        }

        var result = any ? results.Any(r => r) : results.All(r => r);
        return ValueTask.FromResult(NodeResult.Complete(new JsonObject { ["result"] = result }, result ? "true" : "false"));
    }

    /// <inheritdoc />
    public IEnumerable<string> Validate(NodeDefinition node)
    {
        if (node.Config?["conditions"] is not JsonArray { Count: > 0 } conditions)
        {
            yield return "config.conditions must be a non-empty array.";
            yield break;
        }

        foreach (var (condition, i) in conditions.Select((c, i) => (c, i)))
        {
            var op = JsonValues.AsString(condition?["operator"]);
            if (op is null || !Operators.Contains(op))
            {
                yield return $"config.conditions[{i}].operator must be one of {string.Join(", ", Operators)}.";
            }
            else if (op == "regex" && JsonValues.AsString(condition!["right"]) is { } pattern && !pattern.Contains("{{", StringComparison.Ordinal) && !IsValidRegex(pattern))
            {
                yield return $"config.conditions[{i}].right is not a valid regex.";
            }
        }

        if (node.Config["logic"] is { } logic && JsonValues.AsString(logic) is not ("and" or "or"))
        {
            yield return "config.logic must be and or or.";
        }
    }

    private static bool Evaluate(JsonNode? left, string op, JsonNode? right)
    {
        var l = JsonValues.AsNumber(left);
        var r = JsonValues.AsNumber(right);
        var numeric = l is not null && r is not null;
        return op switch
        {
            "eq" => numeric ? l == r : JsonValues.ToText(left) == JsonValues.ToText(right),
            "ne" => numeric ? l != r : JsonValues.ToText(left) != JsonValues.ToText(right),
            "gt" => numeric ? l > r : string.CompareOrdinal(JsonValues.ToText(left), JsonValues.ToText(right)) > 0,
            "gte" => numeric ? l >= r : string.CompareOrdinal(JsonValues.ToText(left), JsonValues.ToText(right)) >= 0,
            "lt" => numeric ? l < r : string.CompareOrdinal(JsonValues.ToText(left), JsonValues.ToText(right)) < 0,
            "lte" => numeric ? l <= r : string.CompareOrdinal(JsonValues.ToText(left), JsonValues.ToText(right)) <= 0,
            "contains" => Contains(left, right),
            "not_contains" => !Contains(left, right),
            "empty" => JsonValues.IsEmpty(left),
            "not_empty" => !JsonValues.IsEmpty(left),
            "regex" => Regex.IsMatch(JsonValues.ToText(left), JsonValues.ToText(right), RegexOptions.None, RegexBudget),
            _ => false,
        };
    }

    private static bool Contains(JsonNode? container, JsonNode? item) => container switch
    {
        JsonArray array => array.Any(e => JsonNode.DeepEquals(e, item) || JsonValues.ToText(e) == JsonValues.ToText(item)),
        JsonObject obj => JsonValues.AsString(item) is { } key && obj.ContainsKey(key),
        _ => JsonValues.ToText(container).Contains(JsonValues.ToText(item), StringComparison.Ordinal),
    };

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, RegexBudget);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
