using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Events;

/// <summary>Something that happened in a workspace, for webhooks and integrations to deliver (e.g. <c>dataset.completed</c>).</summary>
internal sealed record PlatformEvent(string Id, string WorkspaceId, string Type, JsonObject Payload, DateTimeOffset Time);

/// <summary>The types of the platform events that are recorded (and that webhooks can subscribe to).</summary>
internal static class PlatformEventTypes
{
    public const string WorkflowCompleted = "workflow.completed";
    public const string WorkflowFailed = "workflow.failed";
    public const string DatasetCompleted = "dataset.completed";
    public const string UserCreated = "user.created";
    public const string WebhookTest = "webhook.test";
    public const string CredentialExpired = "credential.expired";
    public const string AlertTriggered = "alert.triggered";
    public const string AlertResolved = "alert.resolved";

    public static readonly IReadOnlyList<string> All = [WorkflowCompleted, WorkflowFailed, DatasetCompleted, UserCreated, CredentialExpired, AlertTriggered, AlertResolved, WebhookTest];
}

/// <summary>
/// Reacts to recorded platform events (webhook deliveries, event-based processes). Called by the
/// <c>DispatchPlatformEvent</c> queue function at least once per recording of an event, so a handler dedupes on
/// <see cref="PlatformEvent.Id"/>; throwing retries the message (every handler runs again), then poisons it.
/// </summary>
internal interface IPlatformEventHandler
{
    Task HandleAsync(PlatformEvent platformEvent, CancellationToken cancellationToken);
}

/// <summary>The message of the <c>platform-events</c> queue: which event to hand to the handlers.</summary>
internal sealed record PlatformEventMessage(string WorkspaceId, string EventId)
{
    public const string QueueName = "platform-events";

    public static PlatformEventMessage? Parse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<PlatformEventMessage>(text, JsonSerializerOptions.Web) is { WorkspaceId.Length: > 0, EventId.Length: > 0 } message ? message : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The platform's append-only event log beyond workflow execution events: one row per event in the workspace's
/// partition. The row key is the event id, which callers derive from what happened, so recording the same event
/// twice (at-least-once handlers) keeps one row. Every recording also queues the event for the
/// <see cref="IPlatformEventHandler"/>s.
/// </summary>
internal sealed class PlatformEventLog(IEntityStore store, IWorkQueue queue, TimeProvider time)
{
    private readonly EntityTable<PlatformEvent> _events = new(store, "platformevents");

    /// <summary>
    /// Appends the event unless one with this id is already there, and queues it for the handlers either way (a caller
    /// that died between the two steps records again on its retry, and the handlers still get the event); true when this
    /// call wrote the row.
    /// </summary>
    public async Task<bool> AppendOnceAsync(string workspaceId, string id, string type, JsonObject payload, CancellationToken cancellationToken)
    {
        var written = await _events.InsertAsync(workspaceId, id, new PlatformEvent(id, workspaceId, type, payload, time.GetUtcNow()), cancellationToken);
        await queue.EnqueueAsync(PlatformEventMessage.QueueName, JsonSerializer.Serialize(new PlatformEventMessage(workspaceId, id), JsonSerializerOptions.Web), null, cancellationToken);
        return written.Succeeded;
    }

    /// <summary>The event, or null when the workspace has none with this id.</summary>
    public async Task<PlatformEvent?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        (await _events.GetAsync(workspaceId, id, cancellationToken))?.Value;

    /// <summary>
    /// Up to <paramref name="limit"/> of the workspace's events whose id starts with <paramref name="idPrefix"/>, in id
    /// order, after the id <paramref name="after"/> (null: from the first): one range scan whatever the log holds.
    /// <c>Next</c> is the last id returned when more follow. Null when <paramref name="after"/> is not an id of that prefix.
    /// </summary>
    public async Task<(IReadOnlyList<PlatformEvent> Items, string? Next)?> PageAsync(
        string workspaceId, string idPrefix, string? after, int limit, CancellationToken cancellationToken)
    {
        if (idPrefix.Length == 0 || (after is not null && (!after.StartsWith(idPrefix, StringComparison.Ordinal) || !StoreKeys.IsValidKey(after + " "))))
        {
            return null;
        }

        // No legal key lies between a key and the key plus a space (control characters are not allowed); the prefix's
        // rows end below the prefix with its last character raised by one.
        var query = new EntityQuery
        {
            PartitionKey = workspaceId,
            RowKeyFrom = after is null ? idPrefix : after + " ",
            RowKeyTo = idPrefix[..^1] + (char)(idPrefix[^1] + 1),
            Take = Math.Min(EntityQuery.MaxTake, limit + 1),
        };
        var events = new List<PlatformEvent>(limit + 1);
        await foreach (var row in _events.QueryAllAsync(query, cancellationToken))
        {
            events.Add(row.Value);
            if (events.Count > limit)
            {
                return (events[..limit], events[limit - 1].Id);
            }
        }

        return (events, null);
    }
}
