using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Orchestrations.Definitions;

/// <summary>A problem with a definition, located at a node (or edge) where possible.</summary>
/// <param name="Field">Where: <c>nodes[i].config.x</c>, <c>edges[j]</c>, <c>definition</c>.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="NodeId">The node concerned, if any.</param>
public sealed record DefinitionProblem(string Field, string Message, string? NodeId);

/// <summary>
/// Checks a definition before it is saved: known types, required config, legal common settings, edges that
/// connect existing nodes through branches their source has, exactly one start, every node reachable from it,
/// no cycles (repetition is the loop node's job), and references only to inputs or existing nodes.
/// </summary>
public sealed partial class DefinitionValidator(NodeRegistry registry)
{
    /// <summary>Most nodes a definition may have.</summary>
    public const int MaxNodes = 500;

    /// <summary>Every problem found; empty when the definition is valid.</summary>
    public IReadOnlyList<DefinitionProblem> Validate(WorkflowDefinition? definition)
    {
        var problems = new List<DefinitionProblem>();
        if (definition?.Nodes is not { Count: > 0 } nodes)
        {
            problems.Add(new("definition.nodes", "A workflow needs at least a start node.", null));
            return problems;
        }

        var edges = definition.Edges ?? [];
        if (nodes.Count > MaxNodes)
        {
            problems.Add(new("definition.nodes", $"A workflow has at most {MaxNodes} nodes.", null));
            return problems;
        }

        if (definition.TimeoutSeconds is <= 0)
        {
            problems.Add(new("definition.timeoutSeconds", "timeoutSeconds must be positive.", null));
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            CheckNode(nodes[i], $"definition.nodes[{i}]", ids, problems);
        }

        var byId = nodes.Where(n => n?.Id is not null).GroupBy(n => n.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var starts = nodes.Count(n => n?.Type == "start");
        if (starts != 1)
        {
            problems.Add(new("definition.nodes", $"A workflow needs exactly one start node (found {starts}).", null));
        }

        for (var j = 0; j < edges.Count; j++)
        {
            CheckEdge(edges[j], $"definition.edges[{j}]", byId, problems);
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        CheckGraph(nodes, edges, problems);
        CheckReferences(nodes, byId, registry, problems);
        return problems;
    }

    private void CheckNode(NodeDefinition? node, string at, HashSet<string> ids, List<DefinitionProblem> problems)
    {
        if (node?.Id is not { } id || !IdPattern().IsMatch(id) || id == "inputs")
        {
            problems.Add(new($"{at}.id", "A node id is 1-64 letters, digits, '_' or '-', and is not 'inputs' (references reach only ids that start with a letter or '_').", node?.Id));
            return;
        }

        if (!ids.Add(id))
        {
            problems.Add(new($"{at}.id", $"The node id {id} is used twice.", id));
        }

        if (node.Type is null || registry.Find(node.Type) is not { } type)
        {
            problems.Add(new($"{at}.type", $"Unknown node type '{node.Type}' (see GET /api/v1/blocks).", id));
            return;
        }

        problems.AddRange(ValidateConfig(type, node, $"{at}.config"));
    }

    /// <summary>
    /// The checks of one node's config on its own: the type's required fields, the common settings and the type's own
    /// checks (what running a block outside a workflow checks first); <paramref name="at"/> names the config in the problems.
    /// </summary>
    public static IEnumerable<DefinitionProblem> ValidateConfig(INodeType type, NodeDefinition node, string at)
    {
        foreach (var required in type.Descriptor.RequiredConfig)
        {
            if (node.Config?[required] is null)
            {
                yield return new($"{at}.{required}", $"{node.Type} needs config.{required}.", node.Id);
            }
        }

        foreach (var problem in CheckCommonSettings(node.Config).Concat(type.Validate(node)))
        {
            yield return new(at, problem, node.Id);
        }
    }

    private static IEnumerable<string> CheckCommonSettings(JsonObject? config)
    {
        if (config?["retry"] is { } retry)
        {
            if (retry is not JsonObject r
                || JsonValues.AsNumber(r["maxAttempts"]) is not { } attempts || attempts < 1 || attempts > NodeSettings.MaxAllowedAttempts || attempts != Math.Floor(attempts)
                || r["backoffSeconds"] is { } b && JsonValues.AsNumber(b) is not (>= 0 and <= 3600))
            {
                yield return $"retry must be {{maxAttempts: 1..{NodeSettings.MaxAllowedAttempts}, backoffSeconds: 0..3600}}.";
            }
        }

        if (config?["timeoutSeconds"] is { } timeout && JsonValues.AsNumber(timeout) is not (> 0 and <= 3600))
        {
            yield return "timeoutSeconds must be a number from 0 (exclusive) to 3600.";
        }

        if (config?["onError"] is { } onError)
        {
            var strategy = JsonValues.AsString(onError);
            if (strategy is not ("fail" or "default" or "branch"))
            {
                yield return "onError must be fail, default or branch.";
            }
            else if (strategy == "default" && config["defaultOutput"] is null)
            {
                yield return "onError default needs config.defaultOutput.";
            }
        }
    }

    private void CheckEdge(EdgeDefinition? edge, string at, Dictionary<string, NodeDefinition> byId, List<DefinitionProblem> problems)
    {
        if (edge?.Source is null || !byId.TryGetValue(edge.Source, out var source))
        {
            problems.Add(new($"{at}.source", $"The edge's source '{edge?.Source}' is not a node.", edge?.Source));
            return;
        }

        if (edge.Target is null || !byId.TryGetValue(edge.Target, out var target))
        {
            problems.Add(new($"{at}.target", $"The edge's target '{edge.Target}' is not a node.", edge.Source));
            return;
        }

        if (target.Type == "start")
        {
            problems.Add(new($"{at}.target", "No edge may lead into the start node.", target.Id));
        }

        if (registry.Find(source.Type) is not { } type)
        {
            return;
        }

        var branches = type.BranchesFor(source);
        var handle = edge.SourceHandle;
        var errorBranch = JsonValues.AsString(source.Config?["onError"]) == "branch";
        if (handle == Handles.Error)
        {
            if (!errorBranch)
            {
                problems.Add(new($"{at}.sourceHandle", $"Node {source.Id} has no error branch; set its config.onError to branch.", source.Id));
            }
        }
        else if (branches.Count > 0 && (handle is null || !branches.Contains(handle)))
        {
            problems.Add(new($"{at}.sourceHandle", $"Edges from a {source.Type} node name a branch: {string.Join(" or ", branches)}.", source.Id));
        }
        else if (branches.Count == 0 && handle is not null && handle != Handles.Default)
        {
            problems.Add(new($"{at}.sourceHandle", $"A {source.Type} node has no branch '{handle}'.", source.Id));
        }
    }

    private static void CheckGraph(IReadOnlyList<NodeDefinition> nodes, IReadOnlyList<EdgeDefinition> edges, List<DefinitionProblem> problems)
    {
        var next = edges.GroupBy(e => e.Source).ToDictionary(g => g.Key, g => g.Select(e => e.Target).Distinct().ToList(), StringComparer.Ordinal);
        var start = nodes.First(n => n.Type == "start").Id;
        var reached = new HashSet<string>(StringComparer.Ordinal) { start };
        var frontier = new Queue<string>([start]);
        while (frontier.TryDequeue(out var id))
        {
            foreach (var target in next.GetValueOrDefault(id) ?? [])
            {
                if (reached.Add(target))
                {
                    frontier.Enqueue(target);
                }
            }
        }

        foreach (var node in nodes.Where(n => !reached.Contains(n.Id)))
        {
            problems.Add(new($"definition.nodes[{node.Id}]", $"Node {node.Id} cannot be reached from the start node.", node.Id));
        }

        // Three-colour depth-first search: a grey node met again closes a cycle.
        var colour = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (!colour.ContainsKey(node.Id) && FindCycle(node.Id, next, colour) is { } at)
            {
                problems.Add(new("definition.edges", $"The edges form a cycle through {at}; repeat work with a loop node instead.", at));
                return;
            }
        }
    }

    private static string? FindCycle(string root, Dictionary<string, List<string>> next, Dictionary<string, int> colour)
    {
        var stack = new Stack<(string Id, int Child)>();
        stack.Push((root, 0));
        colour[root] = 1;
        while (stack.TryPop(out var frame))
        {
            var children = next.GetValueOrDefault(frame.Id) ?? [];
            if (frame.Child < children.Count)
            {
                stack.Push((frame.Id, frame.Child + 1));
                var child = children[frame.Child];
                var state = colour.GetValueOrDefault(child);
                if (state == 1)
                {
                    return child;
                }

                if (state == 0)
                {
                    colour[child] = 1;
                    stack.Push((child, 0));
                }
            }
            else
            {
                colour[frame.Id] = 2;
            }
        }

        return null;
    }

    private static void CheckReferences(IReadOnlyList<NodeDefinition> nodes, Dictionary<string, NodeDefinition> byId, NodeRegistry registry, List<DefinitionProblem> problems)
    {
        for (var i = 0; i < nodes.Count; i++)
        {
            var literal = registry.Get(nodes[i].Type).LiteralConfig;
            var templated = nodes[i].Config?.Where(p => !literal.Contains(p.Key)).Select(p => p.Value) ?? [];
            foreach (var root in templated.SelectMany(Templates.ReferencedRoots).Distinct(StringComparer.Ordinal))
            {
                if (root != "inputs" && !byId.ContainsKey(root))
                {
                    problems.Add(new($"definition.nodes[{i}].config", $"The reference {{{{{root}…}}}} names no node (use inputs.x or an existing node id).", nodes[i].Id));
                }
            }
        }
    }

    // A leading digit is allowed because AutoGPT's node ids are UUIDs; such a node cannot be referenced, which the engine never needs.
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex IdPattern();
}
