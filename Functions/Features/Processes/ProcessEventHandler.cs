using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Events;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Processes;

/// <summary>
/// Starts the event-based processes a platform event matches: its type is the process's event name and every field
/// of the filter equals the value at that (dotted) path of the event's data. Each process starts once per event id
/// (a claim row keyed by process and event), however often the event is delivered. The run gets the action's inputs
/// and <c>event: {id, type, data}</c>.
/// </summary>
internal sealed class ProcessEventHandler(ProcessStore processes, ProcessExecutor executor, TimeProvider time, ILogger<ProcessEventHandler> logger)
    : IPlatformEventHandler
{
    public async Task HandleAsync(PlatformEvent platformEvent, CancellationToken cancellationToken)
    {
        foreach (var process in await processes.ListeningAsync(platformEvent.WorkspaceId, platformEvent.Type, cancellationToken))
        {
            if (!Matches(process.Event?.Filter, platformEvent.Payload))
            {
                continue;
            }

            if (!await processes.ClaimEventAsync(process.Id, platformEvent.Id, time.GetUtcNow(), cancellationToken))
            {
                ProcessesLog.EventTaken(logger, process.Id, platformEvent.Id);
                continue;
            }

            var data = new JsonObject { ["id"] = platformEvent.Id, ["type"] = platformEvent.Type, ["data"] = platformEvent.Payload.DeepClone() };
            await executor.StartAsync(process, new ProcessStart(ProcessStart.PlatformEvent, new RunPrincipal(process.CreatedBy, null, null), null, data, platformEvent.Id),
                cancellationToken);
        }
    }

    /// <summary>Whether every field of the filter (a dotted path into the data) holds a JSON-equal value.</summary>
    public static bool Matches(JsonObject? filter, JsonObject data) =>
        filter is null || filter.All(field => JsonNode.DeepEquals(At(data, field.Key), field.Value));

    private static JsonNode? At(JsonObject data, string path)
    {
        JsonNode? node = data;
        foreach (var part in path.Split('.'))
        {
            node = node is JsonObject o && o.TryGetPropertyValue(part, out var child) ? child : null;
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }
}
