using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

internal static class SubmitChatFeedback
{
    internal sealed record Request(string? ChatId, string? MessageId, string? Rating, string? Comment);

    /// <summary>Rates an answer (up or down, with an optional comment); rating again replaces the earlier feedback.</summary>
    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, ChatStore chats, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("chatId", request.ChatId, 200).Require("messageId", request.MessageId, 200)
            .When(request.Rating is not ("up" or "down"), "rating", "rating must be up or down.")
            .MaxLength("comment", request.Comment, 2000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await chats.FindAsync(workspace.WorkspaceId, caller.UserId, request.ChatId!, cancellationToken) is not { } chat
            || await chats.FindMessageAsync(chat.Id, request.MessageId!, cancellationToken) is not { } message)
        {
            return Api.NotFound("The message was not found in this chat.");
        }

        if (message.Role != ChatRoles.Assistant)
        {
            return Api.Validation("messageId", "Feedback rates an answer: the message must be an assistant message.");
        }

        var updated = await chats.SetFeedbackAsync(chat.Id, message.Id, new ChatFeedback(request.Rating!, request.Comment, time.GetUtcNow()), cancellationToken);
        return updated is null ? Api.NotFound("The message was not found in this chat.") : Api.Ok(ChatMessageDto.From(updated));
    }
}
