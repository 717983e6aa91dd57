using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

internal static class DeleteChat
{
    /// <summary>Deletes one of the caller's chats (or sessions) with all its messages.</summary>
    public static async Task<IResult> HandleAsync(
        string chatId, Caller caller, WorkspaceContext workspace, ChatStore chats, ILogger<ChatStore> logger, CancellationToken cancellationToken)
    {
        if (await chats.FindAsync(workspace.WorkspaceId, caller.UserId, chatId, cancellationToken) is not { } chat)
        {
            return Api.NotFound("The chat was not found.");
        }

        var count = await chats.DeleteAsync(chat, cancellationToken);
        ChatLog.Deleted(logger, chat.Id, workspace.WorkspaceId, count);
        return Api.NoContent();
    }
}
