using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

internal static class ListChatHistory
{
    /// <summary>
    /// With <c>chatId</c> (or AutoGPT's <c>sessionId</c>): that chat's messages, oldest first. Otherwise the caller's
    /// chats in the workspace, latest first, only those over <c>appId</c> when given.
    /// </summary>
    public static async Task<IResult> HandleAsync(
        Caller caller, WorkspaceContext workspace, ListQuery query, string? appId, string? chatId, string? sessionId, ChatStore chats,
        CancellationToken cancellationToken)
    {
        var check = new Validator().When(chatId is not null && sessionId is not null && chatId != sessionId, "sessionId",
            "chatId and sessionId name the same thing; give one.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if ((chatId ?? sessionId) is { } id)
        {
            if (query.Check(chats.Messages.SortFields) is { } invalidMessages)
            {
                return invalidMessages;
            }

            if (await chats.FindAsync(workspace.WorkspaceId, caller.UserId, id, cancellationToken) is not { } chat)
            {
                return Api.NotFound("The chat was not found.");
            }

            return await IndexedPaging.PageAsync(chats.Messages, chat.Id, query, null, cancellationToken) is { } messages
                ? Api.Page(messages.Map(ChatMessageDto.From))
                : IndexedPaging.InvalidCursor();
        }

        if (query.Check(chats.Chats.SortFields) is { } invalid)
        {
            return invalid;
        }

        // Only the caller's chats are read: other users' chats in the workspace cost this list nothing.
        var request = new ListRequest<ChatRecord>
        {
            Filters = appId is null ? [("user", caller.UserId)] : [("app", ChatStore.AppFilter(caller.UserId, appId))],
        };
        return await IndexedPaging.PageAsync(chats.Chats, workspace.WorkspaceId, query, request, cancellationToken) is { } page
            ? Api.Page(page.Map(ChatDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
