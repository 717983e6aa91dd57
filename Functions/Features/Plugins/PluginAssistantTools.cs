using System.Text.Json.Nodes;
using Serverless.Functions.Features.Tasks;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Ai;

namespace Serverless.Functions.Features.Plugins;

/// <summary>
/// The task assistant's plugin tools: list the workspace's enabled plugins with their input schemas, and run one as the
/// caller (under the same checks as <c>POST /api/v1/plugins/{id}/execute</c>).
/// </summary>
internal sealed class PluginAssistantTools(PluginCatalog catalog, PluginRunner runner) : IAssistantToolSet
{
    private const string ListTool = "list_plugins";
    private const string RunTool = "run_plugin";

    public IEnumerable<JsonObject> Definitions() =>
    [
        AgentTools.Tool(ListTool, "List the plugins you can run in this workspace (web page reader, calculator, current time, text statistics, JSON/CSV transform, and installed ones), each with its input schema.", []),
        AgentTools.Tool(RunTool, "Run a plugin with an input that matches its input schema; answers its output.",
            new JsonObject
            {
                ["plugin_id"] = AgentTools.Str("The plugin's id (from list_plugins)."),
                ["input"] = new JsonObject { ["type"] = "object", ["description"] = "The plugin's input, matching its input schema." },
            }, "plugin_id", "input"),
    ];

    public async Task<string?> TryRunAsync(string name, JsonObject arguments, AssistantTurn turn, CancellationToken cancellationToken)
    {
        switch (name)
        {
            case ListTool:
            {
                var plugins = (await catalog.ListAsync(turn.WorkspaceId, cancellationToken)).Where(p => p.Enabled)
                    .Select(p => new { id = p.Id, name = p.Manifest.Name, description = p.Manifest.Description, inputSchema = p.Manifest.InputSchema });
                return AgentTools.Answer(new { ok = true, plugins });
            }

            case RunTool:
            {
                var id = arguments["plugin_id"]?.ToString();
                if (string.IsNullOrEmpty(id) || await catalog.GetAsync(turn.WorkspaceId, id, cancellationToken) is not { } plugin)
                {
                    return AgentTools.Error($"No plugin has the id '{id}'; call {ListTool}.");
                }

                var input = arguments["input"] as JsonObject ?? [];
                var invoker = new PluginInvoker(PluginInvoker.Assistant, turn.Caller.UserId, RunPrincipals.Of(turn.Caller));
                var (_, outcome) = await runner.ExecuteAsync(turn.WorkspaceId, plugin, (JsonObject)input.DeepClone(), invoker, null, cancellationToken);
                return outcome.Succeeded
                    ? AgentTools.Answer(new { ok = true, output = outcome.Output })
                    : AgentTools.Answer(new { ok = false, error = outcome.Error, code = outcome.ErrorCode, details = outcome.Details });
            }

            default:
                return null;
        }
    }
}
