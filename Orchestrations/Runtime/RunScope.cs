using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Runtime;

/// <summary>References resolve against the run's inputs and the outputs of its succeeded nodes.</summary>
internal sealed class RunScope(ExecutionDocument run) : IReferenceScope
{
    public JsonNode? Lookup(string reference)
    {
        var path = ReferencePath.Parse(reference);
        if (path.Count == 0 || path[0].Name is not { } root)
        {
            return null;
        }

        if (root == "inputs")
        {
            return Templates.Follow(run.Inputs, [.. path.Skip(1)]);
        }

        if (!run.Nodes.TryGetValue(root, out var node) || node.Status != NodeStatus.Succeeded)
        {
            return null;
        }

        var rest = path.Skip(1).ToList();
        // {{node.output}} names the whole output unless the output itself has a field called "output".
        if (rest is [{ Name: "output" }, ..] && !(node.Output is JsonObject o && o.ContainsKey("output")))
        {
            rest.RemoveAt(0);
        }

        return Templates.Follow(node.Output, rest);
    }
}
