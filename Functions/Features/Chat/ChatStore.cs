using System.Globalization;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Chat;

internal static class ChatRoles
{
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string System = "system";
}

/// <summary>A conversation: over an app (FastGPT's chat) or a session (AutoGPT's), which may have no app.</summary>
internal sealed record ChatRecord(
    string Id, string WorkspaceId, string UserId, string? AppId, string Kind, string Title, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record ChatUsage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    // FastGPT's names for the same counts, offered beside ours so its clients read them unchanged.
    public int Prompt => PromptTokens;
    public int Completion => CompletionTokens;
    public int Total => TotalTokens;
}

internal sealed record ChatCitation(int Citation, string DatasetId, string DocumentId, string Title, string Content, double Score);

internal sealed record ChatFeedback(string Rating, string? Comment, DateTimeOffset At);

internal sealed record ChatMessageRecord(
    string Id, string ChatId, string Role, string Content, ChatUsage? TokenUsage, IReadOnlyList<ChatCitation>? Citations,
    ChatFeedback? Feedback, string? RunId, DateTimeOffset CreatedAt);

/// <summary>
/// Chats per workspace (rows keyed by chat id) and their messages (one partition per chat, row keys that sort in the
/// order the messages were written, so a chat's history is one ordered partition scan). A chat belongs to the user who
/// started it: other members of the workspace do not see it.
/// </summary>
internal sealed class ChatStore(IEntityStore store, TimeProvider time)
{
    public const string KindChat = "chat";
    public const string KindSession = "session";

    private readonly EntityTable<ChatRecord> _chats = new(store, "chats");
    private readonly EntityTable<ChatMessageRecord> _messages = new(store, "chatmessages");
    private long _lastTicks;

    public async Task<ChatRecord?> FindAsync(string workspaceId, string userId, string chatId, CancellationToken cancellationToken) =>
        (await _chats.FindAsync(workspaceId, chatId, cancellationToken))?.Value is { } chat && chat.UserId == userId ? chat : null;

    public async Task<ChatRecord> CreateAsync(string workspaceId, string userId, string? appId, string kind, string title, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var chat = new ChatRecord(Secrets.NewId(kind == KindSession ? "ses" : "chat"), workspaceId, userId, appId, kind, Title(title), now, now);
        await _chats.InsertAsync(workspaceId, chat.Id, chat, cancellationToken);
        return chat;
    }

    /// <summary>A title from the chat's first message: its first line, cut at a word near 60 characters.</summary>
    public static string Title(string text)
    {
        var line = text.Trim().Split('\n', 2)[0].Trim();
        if (line.Length <= 60)
        {
            return line.Length == 0 ? "New chat" : line;
        }

        var cut = line.LastIndexOf(' ', 60);
        return line[..(cut > 20 ? cut : 60)] + "…";
    }

    public async Task<List<ChatRecord>> ListAsync(string workspaceId, string userId, CancellationToken cancellationToken) =>
        [.. (await _chats.ListPartitionAsync(workspaceId, cancellationToken)).Select(c => c.Value).Where(c => c.UserId == userId)];

    public async Task<List<ChatMessageRecord>> MessagesAsync(string chatId, CancellationToken cancellationToken) =>
        [.. (await _messages.ListPartitionAsync(chatId, cancellationToken)).Select(m => m.Value)];

    /// <summary>The last <paramref name="count"/> messages, oldest first.</summary>
    public async Task<List<ChatMessageRecord>> RecentAsync(string chatId, int count, CancellationToken cancellationToken)
    {
        var all = await MessagesAsync(chatId, cancellationToken);
        return all.Count <= count ? all : all[^count..];
    }

    public Task<Stored<ChatMessageRecord>?> FindMessageAsync(string chatId, string messageId, CancellationToken cancellationToken) =>
        _messages.FindAsync(chatId, messageId, cancellationToken);

    /// <summary>
    /// Appends messages in the given order and touches the chat (its updatedAt orders chat lists). Their ids are taken
    /// together before anything is written, so a turn written at the same time sorts wholly before or after these. Null
    /// when the chat was deleted meanwhile: what this call wrote is removed again, so no message outlives its chat.
    /// </summary>
    public async Task<IReadOnlyList<ChatMessageRecord>?> AppendAsync(ChatRecord chat, IReadOnlyList<ChatMessageRecord> messages, CancellationToken cancellationToken)
    {
        var first = ReserveTicks(messages.Count);
        var now = time.GetUtcNow();
        var written = messages.Select((m, i) => m with { Id = MessageId(first + i), ChatId = chat.Id, CreatedAt = now }).ToList();
        foreach (var message in written)
        {
            await _messages.InsertAsync(chat.Id, message.Id, message, cancellationToken);
        }

        if (await _chats.UpdateAsync(chat.WorkspaceId, chat.Id, c => c with { UpdatedAt = time.GetUtcNow() }, cancellationToken) is null)
        {
            foreach (var message in written)
            {
                await _messages.DeleteAsync(chat.Id, message.Id, null, CancellationToken.None);
            }

            return null;
        }

        return written;
    }

    public async Task<ChatMessageRecord?> SetFeedbackAsync(string chatId, string messageId, ChatFeedback feedback, CancellationToken cancellationToken) =>
        (await _messages.UpdateAsync(chatId, messageId, m => m with { Feedback = feedback }, cancellationToken))?.Value;

    /// <summary>
    /// Messages first, the chat last: a delete cut short leaves a chat that can be deleted again, never orphans. A turn
    /// that wrote its messages after the first sweep but touched the chat before it went is swept up at the end; one
    /// that touches it later finds it gone and removes its own (<see cref="AppendAsync"/>).
    /// </summary>
    public async Task<int> DeleteAsync(ChatRecord chat, CancellationToken cancellationToken)
    {
        var count = await DeleteMessagesAsync(chat.Id, cancellationToken);
        await _chats.DeleteAsync(chat.WorkspaceId, chat.Id, null, cancellationToken);
        return count + await DeleteMessagesAsync(chat.Id, cancellationToken);
    }

    private async Task<int> DeleteMessagesAsync(string chatId, CancellationToken cancellationToken)
    {
        var messages = await _messages.ListPartitionAsync(chatId, cancellationToken);
        foreach (var message in messages)
        {
            await _messages.DeleteAsync(chatId, message.RowKey, null, cancellationToken);
        }

        return messages.Count;
    }

    /// <summary>
    /// Ids that sort in write order: the time in ticks, forced to grow within this process (two messages of one turn can
    /// share a clock reading), plus a random tail so writers on other instances never collide. A turn reserves a run of
    /// <paramref name="count"/> ticks at once.
    /// </summary>
    private long ReserveTicks(int count)
    {
        var now = time.GetUtcNow().UtcTicks;
        long first;
        long last;
        do
        {
            last = Interlocked.Read(ref _lastTicks);
            first = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref _lastTicks, first + Math.Max(count, 1) - 1, last) != last);

        return first;
    }

    private static string MessageId(long ticks) =>
        "msg" + ticks.ToString("D19", CultureInfo.InvariantCulture) + "_" + Guid.NewGuid().ToString("N")[..8];
}
