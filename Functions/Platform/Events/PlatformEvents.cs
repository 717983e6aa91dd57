using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Events;

/// <summary>Something that happened in a workspace, for webhooks and integrations to deliver (e.g. <c>dataset.completed</c>).</summary>
internal sealed record PlatformEvent(string Id, string WorkspaceId, string Type, JsonObject Payload, DateTimeOffset Time);

/// <summary>
/// The platform's append-only event log beyond workflow execution events: one row per event in the workspace's
/// partition. The row key is the event id, which callers derive from what happened, so recording the same event
/// twice (at-least-once handlers) keeps one row.
/// </summary>
internal sealed class PlatformEventLog(IEntityStore store, TimeProvider time)
{
    private readonly EntityTable<PlatformEvent> _events = new(store, "platformevents");

    /// <summary>Appends the event unless one with this id is already there; true when this call recorded it.</summary>
    public async Task<bool> AppendOnceAsync(string workspaceId, string id, string type, JsonObject payload, CancellationToken cancellationToken)
    {
        var written = await _events.InsertAsync(workspaceId, id, new PlatformEvent(id, workspaceId, type, payload, time.GetUtcNow()), cancellationToken);
        return written.Succeeded;
    }

    /// <summary>The workspace's events whose id starts with <paramref name="idPrefix"/>, in id order (lists sort them as they are asked).</summary>
    public async Task<List<PlatformEvent>> ListAsync(string workspaceId, string idPrefix, CancellationToken cancellationToken)
    {
        var events = new List<PlatformEvent>();
        await foreach (var row in _events.QueryAllAsync(new EntityQuery { PartitionKey = workspaceId, RowKeyPrefix = idPrefix, Take = EntityQuery.MaxTake }, cancellationToken))
        {
            events.Add(row.Value);
        }

        return events;
    }
}
