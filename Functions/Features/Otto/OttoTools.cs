using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Otto;

/// <summary>A workflow graph Otto proposes, already held to the checks of <c>POST /api/v1/workflows</c>: the client may post it as is.</summary>
internal sealed record OttoProposal(string Name, string? Description, WorkflowDefinition Graph, bool Valid);

/// <summary>
/// Otto's tools for one turn, all inside the caller's workspace and read-only but for the proposal, which stays in the
/// reply (nothing is saved): <c>list_workflows</c>, <c>get_workflow</c>, <c>list_blocks</c>, <c>get_recent_runs</c>,
/// <c>propose_workflow</c>. A workflow of another workspace is answered as unknown, like <c>GET /api/v1/workflows/{id}</c>.
/// </summary>
internal sealed class OttoTools(OttoSources sources, WorkspaceContext workspace, string? contextWorkflowId)
{
    public const string ListWorkflowsTool = "list_workflows";
    public const string GetWorkflowTool = "get_workflow";
    public const string ListBlocksTool = "list_blocks";
    public const string GetRecentRunsTool = "get_recent_runs";
    public const string ProposeWorkflowTool = "propose_workflow";

    private const int MaxRuns = 20;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The last valid proposal of the turn, if any.</summary>
    public OttoProposal? Proposal { get; private set; }

    public static JsonArray Definitions() =>
    [
        AgentTools.Tool(ListWorkflowsTool, "List the workflows of the user's workspace: id, name, description, status, version, node count.",
            new JsonObject { ["search"] = AgentTools.Str("Only workflows whose name or description contains this text.") }),
        AgentTools.Tool(GetWorkflowTool, "Read one workflow with its graph (nodes with their config, edges). Defaults to the workflow the user is looking at.",
            new JsonObject { ["workflow_id"] = AgentTools.Str("The workflow's id (from list_workflows).") }),
        AgentTools.Tool(ListBlocksTool,
            "The blocks catalog: the node types a workflow can use, with their config fields (JSON schema), output and branches. " +
            "Without arguments every block; with search only those whose type, name, category or description contain it; with types exactly those.",
            new JsonObject
            {
                ["search"] = AgentTools.Str("Words to look for, e.g. \"http\" or \"llm\"."),
                ["types"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["description"] = "Node types to describe, e.g. [\"template\", \"llm\"]." },
            }),
        AgentTools.Tool(GetRecentRunsTool, "The latest runs of a workflow, newest first, with their status, error and failed nodes. Defaults to the workflow the user is looking at.",
            new JsonObject
            {
                ["workflow_id"] = AgentTools.Str("The workflow's id (from list_workflows)."),
                ["limit"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = MaxRuns, ["description"] = "How many runs (default 5)." },
            }),
        AgentTools.Tool(ProposeWorkflowTool,
            "Propose a workflow graph for the user to save. It is checked like a new workflow (node types from list_blocks, their config, edges, one start node); " +
            "on errors fix the graph and call again. Nothing is saved: the user decides.",
            new JsonObject
            {
                ["name"] = AgentTools.Str("The workflow's name."),
                ["description"] = AgentTools.Str("What it does."),
                ["graph"] = new JsonObject
                {
                    ["type"] = "object",
                    ["description"] = "{nodes: [{id, type, name, config}], edges: [{source, target, sourceHandle}]}",
                    ["properties"] = new JsonObject
                    {
                        ["nodes"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "object" } },
                        ["edges"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "object" } },
                    },
                    ["required"] = new JsonArray("nodes", "edges"),
                },
            }, "name", "graph"),
    ];

    public async Task<string> RunAsync(string name, JsonObject args, CancellationToken cancellationToken) => name switch
    {
        ListWorkflowsTool => await ListWorkflowsAsync(args["search"]?.ToString(), cancellationToken),
        GetWorkflowTool => await GetWorkflowAsync(args, cancellationToken),
        ListBlocksTool => ListBlocksMatching(args),
        GetRecentRunsTool => await GetRecentRunsAsync(args, cancellationToken),
        ProposeWorkflowTool => Propose(args),
        _ => AgentTools.Error($"There is no tool named '{name}'."),
    };

    /// <summary>The catalog, narrowed when the model asks for some blocks: a whole catalog of schemas is many tokens.</summary>
    private string ListBlocksMatching(JsonObject args)
    {
        var search = args["search"] is JsonValue s && s.TryGetValue<string>(out var text) && !string.IsNullOrWhiteSpace(text) ? text.Trim() : null;
        var types = args["types"] is JsonArray array
            ? array.Select(t => t is JsonValue v && v.TryGetValue<string>(out var type) ? type : null).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : null;
        var blocks = ListBlocks.All(sources.Registry).Where(b =>
            (types is null || types.Count == 0 || types.Contains(b.Type))
            && (search is null || new[] { b.Type, b.Name, b.Category, b.Description }.Any(f => f.Contains(search, StringComparison.OrdinalIgnoreCase)))).ToList();
        return AgentTools.Answer(new { ok = true, blocks, total = sources.Registry.All.Count() });
    }

    private async Task<string> ListWorkflowsAsync(string? search, CancellationToken cancellationToken)
    {
        var query = ListQuery.Default with { Limit = ListQuery.MaxLimit, Search = string.IsNullOrWhiteSpace(search) ? null : search };
        var (page, _) = await ListWorkflows.PageAsync(workspace, query, sources.Workflows, cancellationToken);
        var found = (page?.Items ?? []).Select(w => new { id = w.Id, name = w.Name, description = w.Description, status = w.Status, version = w.Version, nodeCount = w.Definition.Nodes.Count });
        return AgentTools.Answer(new { ok = true, workflows = found, more = page?.Pagination.HasMore ?? false });
    }

    private async Task<string> GetWorkflowAsync(JsonObject args, CancellationToken cancellationToken)
    {
        if (await FindAsync(args, cancellationToken) is not { } found)
        {
            return Unknown(args);
        }

        return AgentTools.Answer(new
        {
            ok = true,
            workflow = new { id = found.Id, name = found.Name, description = found.Description, status = found.Status, version = found.Version, graph = found.Definition, inputsSchema = found.InputsSchema },
        });
    }

    private async Task<string> GetRecentRunsAsync(JsonObject args, CancellationToken cancellationToken)
    {
        if (await FindAsync(args, cancellationToken) is not { } found)
        {
            return Unknown(args);
        }

        var limit = Math.Clamp((int)(JsonValues.AsNumber(args["limit"]) ?? 5), 1, MaxRuns);
        return AgentTools.Answer(new { ok = true, workflowId = found.Id, runs = await OttoRuns.RecentAsync(sources.Runs, workspace.WorkspaceId, found.Id, limit, cancellationToken) });
    }

    private string Propose(JsonObject args)
    {
        var graph = args["graph"] is JsonValue text && text.TryGetValue<string>(out var raw) ? TryParse(raw) : args["graph"];
        WorkflowDefinition? definition;
        try
        {
            definition = graph is JsonObject ? graph.Deserialize<WorkflowDefinition>(Json) : null;
        }
        catch (JsonException e)
        {
            return AgentTools.Error($"graph is not a workflow graph: {e.Message}");
        }

        if (definition is null)
        {
            return AgentTools.Error("graph is required: {nodes: [...], edges: [...]}.");
        }

        var request = new CreateWorkflow.Request(args["name"]?.ToString(), args["description"]?.ToString(), WorkflowStatus.Active, null, definition, null);
        var (normalized, check) = CreateWorkflow.Check(request, sources.Validator);
        if (!check.IsValid)
        {
            return AgentTools.Answer(new { ok = false, error = "The graph has errors; fix them and propose again.", errors = check.Errors });
        }

        Proposal = new OttoProposal(request.Name!.Trim(), request.Description, normalized, Valid: true);
        return AgentTools.Answer(new { ok = true, message = "The proposal is valid; the user can save it." });
    }

    private static JsonNode? TryParse(string raw)
    {
        try
        {
            return JsonNode.Parse(raw);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<WorkflowRecord?> FindAsync(JsonObject args, CancellationToken cancellationToken) =>
        (args["workflow_id"]?.ToString() ?? contextWorkflowId) is { Length: > 0 } id
            ? (await sources.Workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken))?.Value
            : null;

    private string Unknown(JsonObject args) => (args["workflow_id"]?.ToString() ?? contextWorkflowId) is { Length: > 0 } id
        ? AgentTools.Error($"No workflow has the id '{id}'; call {ListWorkflowsTool}.")
        : AgentTools.Error($"workflow_id is required; call {ListWorkflowsTool} to find it.");
}
