using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Ai;

/// <summary>A conversation with an assistant: its messages in OpenAI's shape (user, assistant with tool calls, tool results).</summary>
internal sealed record AgentSession(string Id, string UserId, IReadOnlyList<string> Messages, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// An assistant's sessions: per workspace, each belonging to the user who started it; nobody else can continue or read
/// one. Each assistant keeps its own table (a subclass names it), so one assistant's session id means nothing to another.
/// </summary>
/// <param name="clientsNameSessions">
/// Whether a request may start a session under an id of its own choosing (the task assistant, as Behflow's clients do);
/// otherwise ids are issued by the server and an unknown one is not found, whichever user or workspace it belongs to.
/// </param>
internal abstract partial class AgentSessions(IEntityStore store, TimeProvider time, string table, bool clientsNameSessions)
{
    public bool ClientsNameSessions => clientsNameSessions;

    /// <summary>A session id a client may name: ids are row keys, so only a safe alphabet gets that far.</summary>
    public static Validator CheckSessionId(Validator check, string? sessionId) =>
        check.When(sessionId is { } id && !SessionIdPattern().IsMatch(id), "sessionId", "sessionId must be 1-100 letters, digits, '-' or '_'.");

    private readonly EntityTable<AgentSession> _sessions = new(store, table);

    public async Task<AgentSession?> FindAsync(string workspaceId, string sessionId, string userId, CancellationToken cancellationToken) =>
        (await _sessions.FindAsync(workspaceId, sessionId, cancellationToken))?.Value is { } session && session.UserId == userId ? session : null;

    public async Task<bool> ExistsAsync(string workspaceId, string sessionId, CancellationToken cancellationToken) =>
        await _sessions.FindAsync(workspaceId, sessionId, cancellationToken) is not null;

    /// <summary>Keeps the last <paramref name="keep"/> messages, cut only where a user message starts, so no tool result loses its call.</summary>
    public async Task SaveAsync(string workspaceId, string sessionId, string userId, DateTimeOffset? createdAt, IReadOnlyList<JsonObject> messages, int keep,
        CancellationToken cancellationToken)
    {
        var start = Math.Max(0, messages.Count - keep);
        while (start > 0 && start < messages.Count && messages[start]["role"]?.ToString() != "user")
        {
            start++;
        }

        var kept = messages.Skip(start).Select(m => m.ToJsonString()).ToList();
        var now = time.GetUtcNow();
        await _sessions.UpsertAsync(workspaceId, sessionId, new AgentSession(sessionId, userId, kept, createdAt ?? now, now), cancellationToken);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$")]
    private static partial Regex SessionIdPattern();
}
