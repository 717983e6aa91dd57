using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Otto;

/// <summary>
/// AutoGPT's Otto: answers questions about the caller's workflows and the platform through read-only tools, and may
/// propose a workflow graph (checked like <c>POST /api/v1/workflows</c>) that the client saves if the user wants it.
/// </summary>
internal static class AskOtto
{
    public const int MaxMessageLength = 10_000;

    /// <param name="Context">What the user is looking at: a workflow of the workspace, summarised for the model.</param>
    internal sealed record Request(string? Message, string? SessionId, RequestContext? Context);

    internal sealed record RequestContext(string? WorkflowId);

    internal sealed record Reply(string SessionId, string Message, OttoProposal? Proposal, IReadOnlyList<AgentToolCall> ToolCalls);

    private const string SystemPrompt =
        "You are Otto, the assistant of a workflow automation platform. A workflow is a graph of nodes (blocks) joined by edges; it starts at a start node, " +
        "ends at end nodes, and nodes read earlier outputs with {{nodeId.path}} and the run's inputs with {{inputs.name}}. " +
        "Answer questions about the user's workflows with the tools list_workflows, get_workflow and get_recent_runs (use it to explain why a run failed), " +
        "and about what the platform can do with list_blocks. To build or change a workflow, read list_blocks, then call propose_workflow with the graph; " +
        "if it answers errors, fix the graph and call it again. Never claim a workflow was saved: the user saves a proposal. Reply briefly.";

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, AgentLoop loop, OttoSessions sessions, OttoSources sources,
        IOptions<OttoOptions> options, DefaultChatModel defaultModel, ILogger<OttoSessions> logger, CancellationToken cancellationToken)
    {
        var workflowId = request.Context?.WorkflowId;
        var check = AgentSessions.CheckSessionId(new Validator().Require("message", request.Message, MaxMessageLength), request.SessionId)
            .MaxLength("context.workflowId", workflowId, 100);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var prompt = SystemPrompt;
        if (workflowId is not null)
        {
            if ((await sources.Workflows.GetAsync(workspace.WorkspaceId, workflowId, cancellationToken))?.Value is not { } workflow)
            {
                return Api.NotFound("The workflow was not found.");
            }

            prompt += "\n\n" + await SummaryAsync(workflow, sources, cancellationToken);
        }

        var settings = options.Value;
        var model = await defaultModel.ResolveAsync(null, settings.Model, workspace.WorkspaceId, caller.ModelLimits, cancellationToken);
        if (model is null)
        {
            return Api.Validation("model", "Otto needs a model. " + DefaultChatModel.NoneAvailable);
        }

        var tools = new OttoTools(sources, workspace, workflowId);
        var modelCaller = new ModelCaller(workspace.WorkspaceId, caller.UserId, caller.ApiKeyId, caller.ModelLimits, "otto");
        var (turn, error) = await loop.ConverseAsync(sessions,
            new AgentMessage(workspace.WorkspaceId, caller.UserId, request.SessionId, request.Message!, settings.HistoryMessages),
            new AgentRequest(modelCaller, model, prompt, OttoTools.Definitions(), tools.RunAsync, settings.MaxSteps), cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var rejected = turn!.ToolCalls.Count(c => c.Name == OttoTools.ProposeWorkflowTool && !c.Ok);
        if (rejected > 0)
        {
            OttoLog.ProposalRejected(logger, turn.SessionId, rejected);
        }

        OttoLog.Answered(logger, turn.SessionId, turn.ToolCalls.Count, tools.Proposal is not null);
        return Api.Ok(new Reply(turn.SessionId, turn.Message, tools.Proposal, turn.ToolCalls));
    }

    private const int MaxSummaryNodes = 40;

    /// <summary>The workflow the user is looking at, compact enough for every round's system prompt: its nodes, edges and latest run.</summary>
    private static async Task<string> SummaryAsync(WorkflowRecord workflow, OttoSources sources, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.Append(culture, $"The user is looking at workflow {workflow.Id} \"{workflow.Name}\" (status {workflow.Status}, version {workflow.Version})");
        text.AppendLine(string.IsNullOrWhiteSpace(workflow.Description) ? "." : $": {workflow.Description}");
        var nodes = workflow.Definition.Nodes;
        text.Append("Nodes: ").AppendJoin(", ", nodes.Take(MaxSummaryNodes).Select(n => n.Name is { Length: > 0 } name ? $"{n.Id} ({n.Type}, \"{name}\")" : $"{n.Id} ({n.Type})"));
        text.AppendLine(nodes.Count > MaxSummaryNodes ? $" and {nodes.Count - MaxSummaryNodes} more." : ".");
        var edges = workflow.Definition.Edges;
        text.Append("Edges: ").AppendJoin(", ", edges.Take(MaxSummaryNodes * 2).Select(e => e.SourceHandle is { } handle ? $"{e.Source}->{e.Target} [{handle}]" : $"{e.Source}->{e.Target}"));
        text.AppendLine(".");
        var latest = (await OttoRuns.RecentAsync(sources.Runs, workflow.WorkspaceId, workflow.Id, 1, cancellationToken)).FirstOrDefault();
        text.Append(latest is null
            ? "It has not run yet."
            : $"Latest run {latest.Id}: {latest.Status}" + (latest.Error is { } e ? $" ({e.Code}: {e.Message}{(e.NodeId is null ? "" : $" at node {e.NodeId}")})." : "."));
        text.Append(" Use get_workflow for the full graph and get_recent_runs for more runs.");
        return text.ToString();
    }
}
