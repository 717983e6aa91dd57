using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
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
internal static partial class ChatWithAssistant
{
    /// <param name="SessionIdAlias">Behflow's spelling of <c>sessionId</c>.</param>
    internal sealed record Request(string? Message, string? SessionId, string? Model, [property: JsonPropertyName("session_id")] string? SessionIdAlias = null);

    internal sealed record Reply(string Response, string SessionId, IReadOnlyList<TaskDto> Tasks);

    private const string SystemPrompt =
        "You are a task assistant. You manage the user's tasks only through the tools create_task, update_task, list_tasks and complete_task. " +
        "Use list_tasks to find a task's id before changing it. The workspace's automated processes are listed with list_processes and run with run_process. " +
        "Reply briefly and say what you did.";

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, ModelGateway gateway, TaskBoard board, AssistantSessions sessions,
        IOptions<AssistantOptions> options, DefaultChatModel defaultModel, [Microsoft.AspNetCore.Mvc.FromServices] IEnumerable<IAssistantToolSet> moreTools, TimeProvider time,
        CancellationToken cancellationToken)
    {
        request = request with { SessionId = request.SessionId ?? request.SessionIdAlias };
        var check = new Validator().Require("message", request.Message, 20_000).MaxLength("model", request.Model, 200)
            .When(request.SessionId is { } id && !SessionIdPattern().IsMatch(id), "sessionId", "sessionId must be 1-100 letters, digits, '-' or '_'.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var settings = options.Value;
        var model = request.Model ?? (string.IsNullOrWhiteSpace(settings.Model)
            ? await defaultModel.ResolveAsync(workspace.WorkspaceId, caller.ModelLimits, cancellationToken)
            : settings.Model);
        if (model is null)
        {
            return Api.Validation("model", "The assistant needs a model. " + DefaultChatModel.NoneAvailable);
        }

        var sessionId = request.SessionId ?? Secrets.NewId("ses");
        var session = await sessions.FindAsync(workspace.WorkspaceId, sessionId, caller.UserId, cancellationToken);
        if (session is null && request.SessionId is not null && await sessions.ExistsAsync(workspace.WorkspaceId, sessionId, cancellationToken))
        {
            return Api.NotFound("The session was not found.");
        }

        var history = session?.Messages.Select(m => JsonNode.Parse(m)!.AsObject()).ToList() ?? [];
        history.Add(new JsonObject { ["role"] = "user", ["content"] = request.Message });
        var tools = new AssistantTools(board, new AssistantTurn(workspace.WorkspaceId, caller), moreTools);
        var modelCaller = new ModelCaller(workspace.WorkspaceId, caller.UserId, caller.ApiKeyId, caller.ModelLimits, "assistant");
        string? reply = null;

        for (var round = 0; round < settings.MaxToolRounds && reply is null; round++)
        {
            var messages = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = SystemPrompt });
            foreach (var message in history)
            {
                messages.Add(message.DeepClone());
            }

            var completion = await gateway.CompleteChatAsync(modelCaller, new JsonObject
            {
                ["model"] = model,
                ["messages"] = messages,
                ["tools"] = tools.Definitions(),
                ["tool_choice"] = "auto",
            }, cancellationToken);
            if (completion.Failure is { } failure)
            {
                return failure.ToApiResult();
            }

            var answer = completion.Value!.Json["choices"]?[0]?["message"] as JsonObject ?? new JsonObject { ["role"] = "assistant", ["content"] = "" };
            history.Add(answer.DeepClone().AsObject());
            if (answer["tool_calls"] is JsonArray { Count: > 0 } calls)
            {
                foreach (var call in calls.OfType<JsonObject>())
                {
                    var result = await tools.RunAsync(call["function"]?["name"]?.ToString() ?? "", call["function"]?["arguments"]?.ToString(), cancellationToken);
                    history.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = call["id"]?.ToString(), ["content"] = result });
                }

                continue;
            }

            reply = answer["content"]?.ToString() ?? "";
        }

        reply ??= "I stopped before finishing: the request needed more steps than I may take in one turn.";
        await sessions.SaveAsync(workspace.WorkspaceId, sessionId, caller.UserId, session?.CreatedAt, history, settings.HistoryMessages, cancellationToken);
        return Api.Ok(new Reply(reply, sessionId, [.. tools.Touched.Values.Select(TaskDto.From)]));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$")]
    private static partial Regex SessionIdPattern();
}
