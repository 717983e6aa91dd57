using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Orchestrations.Runtime;

/// <summary>A unit of engine work on the queue: start a run, run a node attempt, or resume a waiting node.</summary>
/// <param name="ExecutionId">The run.</param>
/// <param name="NodeId">The node (null for a start).</param>
/// <param name="Attempt">The attempt a node item is for.</param>
/// <param name="Kind">start, node or resume.</param>
public sealed record WorkItem(
    [property: JsonPropertyName("e")] string ExecutionId,
    [property: JsonPropertyName("n")] string? NodeId,
    [property: JsonPropertyName("a")] int Attempt,
    [property: JsonPropertyName("k")] string Kind)
{
    /// <summary>Start a queued run.</summary>
    public const string Start = "start";
    /// <summary>Run a node attempt.</summary>
    public const string Node = "node";
    /// <summary>Resume a waiting node.</summary>
    public const string Resume = "resume";

    /// <summary>The queue message text.</summary>
    public string ToMessage() => JsonSerializer.Serialize(this);

    /// <summary>Reads a queue message; null when it is not a work item.</summary>
    public static WorkItem? Parse(string message)
    {
        try
        {
            var item = JsonSerializer.Deserialize<WorkItem>(message);
            return item is { ExecutionId.Length: > 0, Kind: Start or Node or Resume } ? item : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
