using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

internal static class ListChatHistory
{
    private static readonly ListShape<ChatDto> Chats = new(
        c => c.Id,
        new Dictionary<string, Func<ChatDto, string>>
        {
            ["createdAt"] = c => c.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = c => c.UpdatedAt.UtcDateTime.ToString("O"),
            ["title"] = c => c.Title.ToLowerInvariant(),
        },
        "updatedAt",
        DefaultDescending: true,
        Matches: (c, s) => c.Title.Contains(s, StringComparison.OrdinalIgnoreCase));

    // Message ids sort in the order the messages were written, so they are the creation order.
    private static readonly ListShape<ChatMessageDto> Messages = new(
        m => m.Id,
        new Dictionary<string, Func<ChatMessageDto, string>> { ["createdAt"] = m => m.Id },
        "createdAt",
        DefaultDescending: false,
        Matches: (m, s) => m.Content.Contains(s, StringComparison.OrdinalIgnoreCase));

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
            if (query.Check(Messages.SortFields) is { } invalidMessages)
            {
                return invalidMessages;
            }

            if (await chats.FindAsync(workspace.WorkspaceId, caller.UserId, id, cancellationToken) is not { } chat)
            {
                return Api.NotFound("The chat was not found.");
            }

            var messages = (await chats.MessagesAsync(chat.Id, cancellationToken)).Select(ChatMessageDto.From);
            return Api.Page(Paging.Paginate(messages, query, Messages));
        }

        if (query.Check(Chats.SortFields) is { } invalid)
        {
            return invalid;
        }

        var list = (await chats.ListAsync(workspace.WorkspaceId, caller.UserId, cancellationToken))
            .Where(c => appId is null || c.AppId == appId)
            .Select(ChatDto.From);
        return Api.Page(Paging.Paginate(list, query, Chats));
    }
}
