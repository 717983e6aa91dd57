using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Plugins;

/// <summary>
/// <c>plugin</c>: runs one of the workspace's plugins with <c>config.input</c> (references resolved) and outputs what the
/// plugin answers. An activity, like every node with effects; a timeout or an unreachable plugin may be retried.
/// </summary>
internal sealed class PluginNode(PluginCatalog catalog, PluginRunner runner) : INodeType
{
    public NodeTypeDescriptor Descriptor { get; } = new("plugin", "Plugin", "Runs a plugin (built in or installed in the workspace) with an input; outputs the plugin's output.", "integration",
        (JsonObject)JsonNode.Parse("""
            {"type":"object","required":["pluginId"],"properties":{
              "pluginId":{"type":"string","description":"a plugin of the workspace (GET /api/v1/plugins)"},
              "input":{"type":"object","description":"the plugin's input; values may reference inputs and earlier nodes ({{node.field}})"}}}
            """)!,
        (JsonObject)JsonNode.Parse("""{"description":"the plugin's output, as its output schema describes"}""")!, [], IsInstant: false);

    public IEnumerable<string> Validate(NodeDefinition node)
    {
        if (node.Config?["pluginId"] is not JsonValue id || id.GetValueKind() != JsonValueKind.String || id.GetValue<string>().Length == 0)
        {
            yield return "config.pluginId must name a plugin.";
        }

        if (node.Config?["input"] is { } input && input is not JsonObject)
        {
            yield return "config.input must be an object.";
        }
    }

    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var id = context.Config["pluginId"]?.GetValue<string>() ?? "";
        if (await catalog.GetAsync(context.WorkspaceId, id, cancellationToken) is not { } plugin)
        {
            return NodeResult.Fail("PLUGIN_NOT_FOUND", $"The workspace has no plugin {id}.", retryable: false);
        }

        var input = context.Config["input"] as JsonObject ?? [];
        var invoker = new PluginInvoker(PluginInvoker.Node, context.Principal?.UserId, context.Principal);
        var (execution, outcome) = await runner.ExecuteAsync(context.WorkspaceId, plugin, (JsonObject)input.DeepClone(), invoker, null, cancellationToken);
        if (outcome.Succeeded)
        {
            return NodeResult.Complete(outcome.Output?.DeepClone());
        }

        var details = outcome.Details is { Count: > 0 } errors
            ? new JsonObject { ["executionId"] = execution.Id, ["errors"] = JsonSerializer.SerializeToNode(errors, JsonSerializerOptions.Web) }
            : new JsonObject { ["executionId"] = execution.Id };
        return NodeResult.Fail(outcome.ErrorCode!, outcome.Error!, outcome.Retryable, details);
    }
}
