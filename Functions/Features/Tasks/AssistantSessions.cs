using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Tasks;

/// <summary>A conversation with the task assistant: its messages in OpenAI's shape (user, assistant with tool calls, tool results).</summary>
internal sealed record AssistantSession(string Id, string UserId, IReadOnlyList<string> Messages, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Sessions are per workspace and belong to the user who started them; nobody else can continue or read one.</summary>
internal sealed class AssistantSessions(IEntityStore store, TimeProvider time)
{
    private readonly EntityTable<AssistantSession> _sessions = new(store, "assistantsessions");

    public async Task<AssistantSession?> FindAsync(string workspaceId, string sessionId, string userId, CancellationToken cancellationToken) =>
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
        await _sessions.UpsertAsync(workspaceId, sessionId, new AssistantSession(sessionId, userId, kept, createdAt ?? now, now), cancellationToken);
    }
}
