using System.Globalization;
using Serverless.Functions.Platform.Http;
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
/// Chats per workspace (rows keyed by chat id beside index rows that list a user's chats, all of them or those over
/// one app) and their messages (one partition per chat, ids that sort in the order the messages were written, listed
/// oldest or newest first from index rows). A chat belongs to the user who started it: other members of the workspace
/// do not see it, and their chats are never read to list it.
/// </summary>
internal sealed class ChatStore(IEntityStore store, TimeProvider time)
{
    public const string KindChat = "chat";
    public const string KindSession = "session";
    public const string MessageOrder = "createdAt";

    /// <summary>
    /// A chat list is always one user's: the user filter narrows it in the store, and the app filter (user and app
    /// together) narrows it to one app's chats. The index's unfiltered rows are never listed.
    /// </summary>
    public static readonly ListIndex<ChatRecord> ChatIndex = new(
        version: 1,
        c => c.Id,
        new Dictionary<string, Func<ChatRecord, string>>
        {
            ["createdAt"] = c => c.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = c => c.UpdatedAt.UtcDateTime.ToString("O"),
            ["title"] = c => c.Title.ToLowerInvariant(),
        },
        new Dictionary<string, Func<ChatRecord, string?>>
        {
            ["user"] = c => c.UserId,
            ["app"] = c => c.AppId is { } appId ? AppFilter(c.UserId, appId) : null,
        });

    /// <summary>Message ids sort in write order, so the id (every order's tie-break) alone is the order: the sort key is empty.</summary>
    public static readonly ListIndex<ChatMessageRecord> MessageIndex = new(
        version: 1,
        m => m.Id,
        new Dictionary<string, Func<ChatMessageRecord, string>> { [MessageOrder] = _ => "" });

    private readonly IEntityStore _store = store;
    private readonly IndexedTable<ChatRecord> _chats = new(store, "chats", ChatIndex, EntityTable<ChatRecord>.Json);
    private readonly IndexedTable<ChatMessageRecord> _messages = new(store, "chatmessages", MessageIndex, EntityTable<ChatMessageRecord>.Json);
    private long _lastTicks;

    public IndexedList<ChatRecord> Chats => new(_chats, "updatedAt", DefaultDescending: true,
        Matches: (c, s) => c.Title.Contains(s, StringComparison.OrdinalIgnoreCase));

    public IndexedList<ChatMessageRecord> Messages => new(_messages, MessageOrder, DefaultDescending: false,
        Matches: (m, s) => m.Content.Contains(s, StringComparison.OrdinalIgnoreCase));

    /// <summary>The value of the app filter: one user's chats over one app.</summary>
    public static string AppFilter(string userId, string appId) => userId + "\n" + appId;

    public async Task<ChatRecord?> FindAsync(string workspaceId, string userId, string chatId, CancellationToken cancellationToken) =>
        (await _chats.GetAsync(workspaceId, chatId, cancellationToken))?.Value is { } chat && chat.UserId == userId ? chat : null;

    public async Task<ChatRecord> CreateAsync(string workspaceId, string userId, string? appId, string kind, string title, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var chat = new ChatRecord(Secrets.NewId(kind == KindSession ? "ses" : "chat"), workspaceId, userId, appId, kind, Title(title), now, now);
        // Chats are often started (through the API) long before anyone lists them: marking the partition indexed first
        // (once per instance) keeps its first list from rewriting every chat written since.
        await _chats.EnsureIndexedAsync(workspaceId, cancellationToken);
        await _chats.InsertAsync(workspaceId, chat, cancellationToken);
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

    /// <summary>The last <paramref name="count"/> messages, oldest first: one page of the newest-first order, whatever the chat holds.</summary>
    public async Task<List<ChatMessageRecord>> RecentAsync(string chatId, int count, CancellationToken cancellationToken)
    {
        if (count <= 0)
        {
            return [];
        }

        var newest = await _messages.ListAsync(chatId, new IndexQuery<ChatMessageRecord> { Order = MessageOrder, Descending = true, Limit = count }, cancellationToken);
        return [.. newest.Items.Reverse()];
    }

    public async Task<ChatMessageRecord?> FindMessageAsync(string chatId, string messageId, CancellationToken cancellationToken) =>
        (await _messages.GetAsync(chatId, messageId, cancellationToken))?.Value;

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
            await _messages.InsertAsync(chat.Id, message, cancellationToken);
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

    /// <summary>
    /// Empties the chat's partition: its messages, their index rows and the index's marker all go, a batch at a time
    /// (the partition is the chat's alone). A row another delete removed first fails its batch, which then goes row by
    /// row. Returns how many messages went.
    /// </summary>
    private Task<int> DeleteMessagesAsync(string chatId, CancellationToken cancellationToken) =>
        EntityPartitions.DeleteAllAsync(_store, _messages.Name, chatId, cancellationToken);

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
