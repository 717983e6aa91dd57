using System.Text.Json.Nodes;
using Serverless.Functions.Features.Plugins;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Tools;

/// <summary>What a tool run came to.</summary>
internal sealed record ToolResult(string Tool, string Kind, string Status, JsonNode? Output, string? Branch, string? ExecutionId, long LatencyMs);

/// <summary>
/// Runs one tool as the caller: a plugin of the caller's workspace through <see cref="PluginRunner"/>, or a block (a node
/// type) on its own as a one-node workflow would run it. The block's config is the tool's input; <c>{{inputs.x}}</c>
/// references in it resolve against that same input, and there are no other nodes to reference.
/// </summary>
internal sealed class ToolRunner(NodeRegistry registry, PluginCatalog plugins, PluginRunner pluginRunner, TimeProvider time)
{
    public const string BlockKind = "block";
    public const string PluginKind = "plugin";
    private const string NodeId = "tool";

    /// <summary>
    /// The blocks that make sense alone, with the scopes they need beyond <c>workflows:execute</c>. The rest wait (delay,
    /// human_review, sub_workflow, loop) or only shape a graph (start, end, merge): a new node type stays out until it is listed.
    /// </summary>
    private static readonly Dictionary<string, string[]> Standalone = new(StringComparer.Ordinal)
    {
        ["template"] = [],
        ["set"] = [],
        ["condition"] = [],
        ["http_request"] = [],
        ["code"] = [],
        ["llm"] = [Scopes.ModelsUse],
        ["question_classifier"] = [Scopes.ModelsUse],
        ["parameter_extractor"] = [Scopes.ModelsUse],
        ["knowledge_retrieval"] = [Scopes.DatasetsRead],
        ["plugin"] = [Scopes.PluginsExecute],
    };

    /// <summary><c>block:</c> or <c>plugin:</c> before the id says which is meant; without it a block type wins over a plugin of that id.</summary>
    public async Task<(ToolResult? Result, IResult? Error)> RunAsync(
        string? tool, JsonObject? input, Caller caller, WorkspaceContext workspace, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(tool))
        {
            return (null, Api.Validation("tool", "tool names a block type (GET /api/v1/blocks) or a plugin id (GET /api/v1/plugins)."));
        }

        input ??= [];
        tool = tool.Trim();
        if (tool.StartsWith(PluginKind + ":", StringComparison.Ordinal))
        {
            return await RunPluginAsync(tool[(PluginKind.Length + 1)..], input, caller, workspace, cancellationToken);
        }

        var block = tool.StartsWith(BlockKind + ":", StringComparison.Ordinal) ? tool[(BlockKind.Length + 1)..] : tool;
        if (registry.Find(block) is { } type)
        {
            return await RunBlockAsync(type, input, caller, workspace, cancellationToken);
        }

        return block == tool
            ? await RunPluginAsync(tool, input, caller, workspace, cancellationToken)
            : (null, Api.NotFound($"There is no block {block}."));
    }

    private async Task<(ToolResult? Result, IResult? Error)> RunPluginAsync(
        string id, JsonObject input, Caller caller, WorkspaceContext workspace, CancellationToken cancellationToken)
    {
        if (!caller.HasScope(Scopes.PluginsExecute))
        {
            return (null, Api.Forbidden($"This API key lacks the scope '{Scopes.PluginsExecute}' that running a plugin needs."));
        }

        if (await plugins.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } plugin)
        {
            return (null, Api.NotFound($"There is no block or plugin {id}."));
        }

        if (ExecutePlugin.Refusal(plugin, input) is { } refused)
        {
            return (null, refused);
        }

        var invoker = new PluginInvoker(PluginInvoker.Tool, caller.UserId, RunPrincipals.Of(caller));
        var (execution, outcome) = await pluginRunner.ExecuteAsync(workspace.WorkspaceId, plugin, input, invoker, null, cancellationToken);
        return outcome.Succeeded
            ? (new ToolResult(id, PluginKind, execution.Status, execution.Output, null, execution.Id, execution.LatencyMs ?? 0), null)
            : (null, Api.Error(outcome.HttpStatus, outcome.ErrorCode!, outcome.Error!, outcome.Details));
    }

    private async Task<(ToolResult? Result, IResult? Error)> RunBlockAsync(
        INodeType type, JsonObject input, Caller caller, WorkspaceContext workspace, CancellationToken cancellationToken)
    {
        var name = type.Descriptor.Type;
        if (!Standalone.TryGetValue(name, out var extraScopes))
        {
            return (null, Api.Validation("tool", $"The block {name} cannot run on its own (it waits or only shapes a graph); use it in a workflow."));
        }

        if (new[] { Scopes.WorkflowsExecute }.Concat(extraScopes).FirstOrDefault(s => !caller.HasScope(s)) is { } missing)
        {
            return (null, Api.Forbidden($"This API key lacks the scope '{missing}' that the block {name} needs."));
        }

        var node = new NodeDefinition(NodeId, name, null, input);
        var problems = DefinitionValidator.ValidateConfig(type, node, "input").Select(p => new FieldError(p.Field, p.Message)).ToList();
        var templated = input.Where(p => !type.LiteralConfig.Contains(p.Key)).Select(p => p.Value);
        problems.AddRange(templated.SelectMany(Templates.ReferencedRoots).Distinct(StringComparer.Ordinal).Where(root => root != "inputs")
            .Select(root => new FieldError("input", $"The reference {{{{{root}…}}}} names nothing: a tool's input references only itself, as inputs.x.")));
        if (problems.Count > 0)
        {
            return (null, Api.Validation(problems, $"The input is not a valid config of the block {name}."));
        }

        var scope = new InputScope(input);
        var context = new NodeContext
        {
            ExecutionId = Secrets.NewId(NodeId),
            WorkspaceId = workspace.WorkspaceId,
            Node = node,
            Config = NodeAttempts.ResolveConfig(node, type, scope),
            RunInputs = input,
            Attempt = 1,
            Clock = time,
            Scope = scope,
            PredecessorOutputs = new Dictionary<string, JsonNode?>(),
            UpstreamOutputs = new Dictionary<string, JsonNode?>(),
            Principal = RunPrincipals.Of(caller),
        };
        var started = time.GetTimestamp();
        var result = await NodeAttempts.RunAsync(type, context, cancellationToken);
        var latency = (long)time.GetElapsedTime(started).TotalMilliseconds;
        return result switch
        {
            { Outcome: NodeOutcome.Completed } => (new ToolResult(name, BlockKind, "succeeded", result.Output, result.Branch, null, latency), null),
            { Error: { } error } => (null, Api.Error(StatusOf(type, error), error.Code, error.Message)),
            _ => (null, Api.Validation("tool", $"The block {name} waited instead of finishing; use it in a workflow.")),
        };
    }

    /// <summary>A pure block's failure is its input's fault (422); an effect's is its upstream's (502), a timeout is 504.</summary>
    private static int StatusOf(INodeType type, NodeError error) =>
        error.Code == "NODE_TIMEOUT" ? StatusCodes.Status504GatewayTimeout
        : type.Descriptor.IsInstant ? StatusCodes.Status422UnprocessableEntity
        : StatusCodes.Status502BadGateway;

    /// <summary>References in a tool's input: <c>inputs</c> is the input itself; nothing else exists.</summary>
    private sealed class InputScope(JsonObject input) : IReferenceScope
    {
        public JsonNode? Lookup(string reference)
        {
            var path = ReferencePath.Parse(reference);
            return path is [{ Name: "inputs" }, ..] ? Templates.Follow(input, [.. path.Skip(1)]) : null;
        }
    }
}
