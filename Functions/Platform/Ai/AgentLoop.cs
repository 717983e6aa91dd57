using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Platform.Ai;

/// <summary>Runs one tool call the model made: the JSON the model reads back.</summary>
internal delegate Task<string> AgentToolRunner(string name, JsonObject arguments, CancellationToken cancellationToken);

/// <summary>
/// How an assistant talks to the model in one turn: as <paramref name="Caller"/> (its key's limits and budgets apply and usage
/// is recorded under it), with <paramref name="Tools"/> offered, at most <paramref name="MaxRounds"/> model round trips.
/// </summary>
internal sealed record AgentRequest(ModelCaller Caller, string Model, string SystemPrompt, JsonArray Tools, AgentToolRunner RunTool, int MaxRounds);

/// <summary>The user's side of a turn: their message, the session it continues (null: a new one), and how much history a session keeps.</summary>
internal sealed record AgentMessage(string WorkspaceId, string UserId, string? SessionId, string Message, int HistoryMessages);

/// <summary>One tool call the model made in a turn, and whether the tool answered ok.</summary>
internal sealed record AgentToolCall(string Name, bool Ok);

/// <summary>The turn's outcome: the model's last answer, the session that holds it, and the tools it called on the way.</summary>
internal sealed record AgentReply(string SessionId, string Message, IReadOnlyList<AgentToolCall> ToolCalls);

/// <summary>
/// The agent loop every assistant shares (the task assistant, Otto): load the session's history, call the model through
/// the gateway, run the tool calls it asks for and feed their results back, until it answers in words or the round cap is
/// reached; then save the history, bounded.
/// </summary>
internal sealed class AgentLoop(ModelGateway gateway)
{
    /// <summary>The answer when the model was still calling tools at the round cap.</summary>
    public const string OutOfSteps = "I stopped before finishing: the request needed more steps than I may take in one turn.";

    /// <summary>The reply, or the error result: another user's session is 404, a failed model call the gateway's status.</summary>
    public async Task<(AgentReply? Reply, IResult? Error)> ConverseAsync(
        AgentSessions sessions, AgentMessage message, AgentRequest request, CancellationToken cancellationToken)
    {
        var sessionId = message.SessionId ?? Secrets.NewId("ses");
        var session = await sessions.FindAsync(message.WorkspaceId, sessionId, message.UserId, cancellationToken);
        if (session is null && message.SessionId is not null
            && (!sessions.ClientsNameSessions || await sessions.ExistsAsync(message.WorkspaceId, sessionId, cancellationToken)))
        {
            return (null, Api.NotFound("The session was not found."));
        }

        var history = session?.Messages.Select(m => JsonNode.Parse(m)!.AsObject()).ToList() ?? [];
        history.Add(new JsonObject { ["role"] = "user", ["content"] = message.Message });
        var calls = new List<AgentToolCall>();
        string? reply = null;

        for (var round = 0; round < request.MaxRounds && reply is null; round++)
        {
            var messages = new JsonArray(new JsonObject { ["role"] = "system", ["content"] = request.SystemPrompt });
            foreach (var earlier in history)
            {
                messages.Add(earlier.DeepClone());
            }

            var completion = await gateway.CompleteChatAsync(request.Caller, new JsonObject
            {
                ["model"] = request.Model,
                ["messages"] = messages,
                ["tools"] = request.Tools.DeepClone(),
                ["tool_choice"] = "auto",
            }, cancellationToken);
            if (completion.Failure is { } failure)
            {
                return (null, failure.ToApiResult());
            }

            var answer = completion.Value!.Json["choices"]?[0]?["message"] as JsonObject ?? new JsonObject { ["role"] = "assistant", ["content"] = "" };
            history.Add(answer.DeepClone().AsObject());
            if (answer["tool_calls"] is JsonArray { Count: > 0 } toolCalls)
            {
                foreach (var call in toolCalls.OfType<JsonObject>())
                {
                    var name = call["function"]?["name"]?.ToString() ?? "";
                    var result = await RunToolAsync(request.RunTool, name, call["function"]?["arguments"]?.ToString(), cancellationToken);
                    calls.Add(new AgentToolCall(name, AgentTools.Succeeded(result)));
                    history.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = call["id"]?.ToString(), ["content"] = result });
                }

                continue;
            }

            reply = answer["content"]?.ToString() ?? "";
        }

        await sessions.SaveAsync(message.WorkspaceId, sessionId, message.UserId, session?.CreatedAt, history, message.HistoryMessages, cancellationToken);
        return (new AgentReply(sessionId, reply ?? OutOfSteps, calls), null);
    }

    private static async Task<string> RunToolAsync(AgentToolRunner run, string name, string? arguments, CancellationToken cancellationToken)
    {
        JsonObject args;
        try
        {
            args = JsonNode.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return AgentTools.Error("The arguments are not valid JSON.");
        }

        return await run(name, args, cancellationToken);
    }
}
