using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Functions.Triggers;

internal sealed record FunctionDefinition(string Name, string TriggerType, string BindingName, string? Schedule, bool RunOnStartup, string? QueueName);

internal sealed record QueueSettings(int MaxDequeueCount, TimeSpan VisibilityTimeout, TimeSpan MaxPollingInterval, int BatchSize);

/// <summary>
/// Reads the same files the Functions host reads: each <c>{Name}/function.json</c> next to the executable and
/// the queue settings of <c>host.json</c>. They are the one source of truth for triggers in both modes.
/// </summary>
internal sealed class FunctionManifest
{
    public FunctionManifest(string root)
    {
        Functions = Directory.Exists(root)
            ? [.. Directory.GetDirectories(root).Select(d => Read(Path.GetFileName(d), Path.Combine(d, "function.json"))).OfType<FunctionDefinition>().OrderBy(f => f.Name, StringComparer.Ordinal)]
            : [];
        Queues = ReadQueueSettings(Path.Combine(root, "host.json"));
    }

    public IReadOnlyList<FunctionDefinition> Functions { get; }

    public QueueSettings Queues { get; }

    private static FunctionDefinition? Read(string name, string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var trigger = JsonNode.Parse(File.ReadAllText(path))?["bindings"]?.AsArray()
            .FirstOrDefault(b => b?["direction"]?.GetValue<string>() == "in" && (b["type"]?.GetValue<string>() ?? "").EndsWith("Trigger", StringComparison.Ordinal));
        if (trigger is null)
        {
            return null;
        }

        return new FunctionDefinition(
            name,
            trigger["type"]!.GetValue<string>(),
            trigger["name"]?.GetValue<string>() ?? "input",
            trigger["schedule"]?.GetValue<string>(),
            trigger["runOnStartup"]?.GetValue<bool>() ?? false,
            trigger["queueName"]?.GetValue<string>());
    }

    private static QueueSettings ReadQueueSettings(string hostJson)
    {
        var queues = File.Exists(hostJson) ? JsonNode.Parse(File.ReadAllText(hostJson), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })?["extensions"]?["queues"] : null;
        return new QueueSettings(
            queues?["maxDequeueCount"]?.GetValue<int>() ?? 5,
            TimeSpan.Parse(queues?["visibilityTimeout"]?.GetValue<string>() ?? "00:00:00", System.Globalization.CultureInfo.InvariantCulture),
            TimeSpan.Parse(queues?["maxPollingInterval"]?.GetValue<string>() ?? "00:00:02", System.Globalization.CultureInfo.InvariantCulture),
            queues?["batchSize"]?.GetValue<int>() ?? 16);
    }
}
