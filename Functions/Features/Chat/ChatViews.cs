namespace Serverless.Functions.Features.Chat;

internal sealed record ChatDto(string Id, string? AppId, string Kind, string Title, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ChatDto From(ChatRecord chat) => new(chat.Id, chat.AppId, chat.Kind, chat.Title, chat.CreatedAt, chat.UpdatedAt);
}

internal sealed record ChatMessageDto(
    string Id, string ChatId, string Role, string Content, ChatUsage? TokenUsage, IReadOnlyList<ChatCitation> Citations,
    ChatFeedback? Feedback, string? RunId, DateTimeOffset CreatedAt)
{
    public static ChatMessageDto From(ChatMessageRecord m) =>
        new(m.Id, m.ChatId, m.Role, m.Content, m.TokenUsage, m.Citations ?? [], m.Feedback, m.RunId, m.CreatedAt);
}

/// <summary>The answer to one message (non-streamed); a stream's <c>end</c> event carries the same fields but the text.</summary>
internal sealed record ChatReply(string ChatId, string MessageId, string Response, ChatUsage TokenUsage, IReadOnlyList<ChatCitation> Citations, string? RunId);
