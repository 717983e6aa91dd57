using System.Text.Json.Nodes;
using Serverless.Functions.Features.Apps;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

internal static class SendChatCompletion
{
    internal sealed record Request(string? AppId, string? ChatId, string? Message, JsonArray? Messages, JsonObject? Variables, bool? Stream);

    /// <summary>
    /// FastGPT's chat: a message to an app, in a new chat or in <c>chatId</c> (which must be one of the caller's chats
    /// over that app: another app's, user's or workspace's chat is not found).
    /// </summary>
    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, AppStore apps, ChatStore chats, ChatTurns turns, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("appId", request.AppId, 200).MaxLength("chatId", request.ChatId, 200).CheckVariables(request.Variables);
        var (message, history) = ChatInput.Read(check, request.Message, request.Messages, request.ChatId is not null);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await apps.GetAsync(workspace.WorkspaceId, request.AppId!, cancellationToken) is not { } app)
        {
            return Api.NotFound("The app was not found.");
        }

        ChatRecord? chat = null;
        if (request.ChatId is { } chatId
            && ((chat = await chats.FindAsync(workspace.WorkspaceId, caller.UserId, chatId, cancellationToken)) is null || chat.AppId != app.Value.Id))
        {
            return Api.NotFound("The chat was not found.");
        }

        return await turns.AnswerAsync(new ChatTurn(chat, ChatStore.KindChat, app.Value, message, history, request.Variables, request.Stream == true),
            caller, workspace, cancellationToken);
    }
}
