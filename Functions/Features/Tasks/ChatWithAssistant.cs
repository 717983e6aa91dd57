using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

/// <summary>
/// Behflow's chat that manages tasks: an agent loop over the model gateway with the tools create_task,
/// update_task, list_tasks and complete_task. History is kept per session; <c>tasks</c> lists what this turn
/// created or changed.
/// </summary>
internal static class ChatWithAssistant
{
    /// <param name="SessionIdAlias">Behflow's spelling of <c>sessionId</c>.</param>
    internal sealed record Request(string? Message, string? SessionId, string? Model, [property: JsonPropertyName("session_id")] string? SessionIdAlias = null);

    internal sealed record Reply(string Response, string SessionId, IReadOnlyList<TaskDto> Tasks);

    private const string SystemPrompt =
        "You are a task assistant. You manage the user's tasks only through the tools create_task, update_task, list_tasks and complete_task. " +
        "Use list_tasks to find a task's id before changing it. The workspace's automated processes are listed with list_processes and run with run_process. " +
        "Reply briefly and say what you did.";

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, AgentLoop loop, TaskBoard board, AssistantSessions sessions,
        IOptions<AssistantOptions> options, DefaultChatModel defaultModel, [Microsoft.AspNetCore.Mvc.FromServices] IEnumerable<IAssistantToolSet> moreTools, CancellationToken cancellationToken)
    {
        request = request with { SessionId = request.SessionId ?? request.SessionIdAlias };
        var check = AgentSessions.CheckSessionId(new Validator().Require("message", request.Message, 20_000).MaxLength("model", request.Model, 200), request.SessionId);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var settings = options.Value;
        var model = await defaultModel.ResolveAsync(request.Model, settings.Model, workspace.WorkspaceId, caller.ModelLimits, cancellationToken);
        if (model is null)
        {
            return Api.Validation("model", "The assistant needs a model. " + DefaultChatModel.NoneAvailable);
        }

        var tools = new AssistantTools(board, new AssistantTurn(workspace.WorkspaceId, caller), moreTools);
        var modelCaller = new ModelCaller(workspace.WorkspaceId, caller.UserId, caller.ApiKeyId, caller.ModelLimits, "assistant");
        var (turn, error) = await loop.ConverseAsync(sessions,
            new AgentMessage(workspace.WorkspaceId, caller.UserId, request.SessionId, request.Message!, settings.HistoryMessages),
            new AgentRequest(modelCaller, model, SystemPrompt, tools.Definitions(), tools.RunAsync, settings.MaxToolRounds), cancellationToken);
        return error ?? Api.Ok(new Reply(turn!.Message, turn.SessionId, [.. tools.Touched.Values.Select(TaskDto.From)]));
    }
}
