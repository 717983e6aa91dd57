using System.Text.Json.Nodes;
using Serverless.Functions.Features.Apps;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

internal static class SendSessionMessage
{
    internal sealed record Request(string? SessionId, string? Message, JsonObject? Variables, bool? Stream);

    /// <summary>AutoGPT's message to a session: answered like a chat completion over the session's app (or the default model).</summary>
    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, AppStore apps, ChatStore chats, ChatTurns turns, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("sessionId", request.SessionId, 200).Require("message", request.Message, ChatInput.MaxMessageLength)
            .CheckVariables(request.Variables);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await chats.FindAsync(workspace.WorkspaceId, caller.UserId, request.SessionId!, cancellationToken) is not { } session)
        {
            return Api.NotFound("The session was not found.");
        }

        AppRecord? app = null;
        if (session.AppId is { } appId && (app = (await apps.GetAsync(workspace.WorkspaceId, appId, cancellationToken))?.Value) is null)
        {
            return Api.NotFound("The session's app was not found.");
        }

        return await turns.AnswerAsync(new ChatTurn(session, ChatStore.KindSession, app, request.Message!, [], request.Variables, request.Stream == true),
            caller, workspace, cancellationToken);
    }
}
