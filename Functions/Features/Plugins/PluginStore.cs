using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Plugins;

/// <summary>
/// A workspace's plugin: an installed manifest with what the workspace granted it, or (Manifest null) the workspace's
/// settings for a built-in plugin. Config values of secret fields live only in <paramref name="SealedSecrets"/>.
/// </summary>
internal sealed record PluginRecord(
    string Id,
    PluginManifest? Manifest,
    PluginCapabilities Granted,
    bool Enabled,
    JsonObject Config,
    IReadOnlyDictionary<string, string> SealedSecrets,
    string InstalledBy,
    DateTimeOffset InstalledAt,
    DateTimeOffset UpdatedAt);

internal static class PluginExecutionStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public static bool IsTerminal(string status) => status is Succeeded or Failed;
}

/// <param name="Source">Who asked: api, node (a workflow's plugin node) or assistant.</param>
/// <param name="Input">Kept until the execution ends (an asynchronous one runs from it), then dropped.</param>
internal sealed record PluginExecutionRecord(
    string Id,
    string PluginId,
    string Status,
    string Source,
    string? UserId,
    JsonObject? Input,
    JsonNode? Output,
    string? ErrorCode,
    string? Error,
    long? LatencyMs,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt);

/// <summary>
/// Plugins per workspace (one partition each; few enough to list in memory) and each plugin's executions in a partition of
/// their own, newest first through an index.
/// </summary>
internal sealed class PluginStore(IEntityStore store, SecretProtector protector)
    : PartitionRecords<PluginRecord>(store, "plugins", p => p.Id)
{
    public const int MaxPerWorkspace = 50;
    private const string ExecutionsTable = "pluginexecutions";
    private readonly IEntityStore _store = store;

    public static readonly ListIndex<PluginExecutionRecord> ExecutionIndex = new(
        version: 1,
        e => e.Id,
        new Dictionary<string, Func<PluginExecutionRecord, string>> { ["createdAt"] = e => e.CreatedAt.UtcDateTime.ToString("O") },
        new Dictionary<string, Func<PluginExecutionRecord, string?>> { ["status"] = e => e.Status });

    private readonly IndexedTable<PluginExecutionRecord> _executions = new(store, ExecutionsTable, ExecutionIndex, EntityTable<PluginExecutionRecord>.Json);

    /// <summary>Changes the workspace's record of a plugin, creating it from <paramref name="initial"/> (a built-in's defaults) when there is none.</summary>
    public async Task<PluginRecord?> UpdateAsync(
        string workspaceId, string id, Func<PluginRecord, PluginRecord?> change, PluginRecord? initial, CancellationToken cancellationToken)
    {
        if (await UpdateAsync(workspaceId, id, change, cancellationToken) is { } updated)
        {
            return updated;
        }

        if (initial is null || !StoreKeys.IsValidKey(id) || change(initial) is not { } created)
        {
            return null;
        }

        // Two first changes at once: the loser applies its change on top of the winner's record.
        return (await InsertAsync(workspaceId, created, cancellationToken)).Succeeded
            ? created
            : await UpdateAsync(workspaceId, id, change, cancellationToken);
    }

    public string Seal(string workspaceId, string pluginId, string field, string value) => protector.Protect(value, Purpose(workspaceId, pluginId, field));

    public string? Unseal(string workspaceId, string pluginId, string field, string sealedValue) => protector.Unprotect(sealedValue, Purpose(workspaceId, pluginId, field));

    public static string ExecutionPartition(string workspaceId, string pluginId) => $"{workspaceId}~{pluginId}";

    public Task<WriteResult> InsertExecutionAsync(string workspaceId, PluginExecutionRecord execution, CancellationToken cancellationToken) =>
        _executions.InsertAsync(ExecutionPartition(workspaceId, execution.PluginId), execution, cancellationToken);

    public async Task<PluginExecutionRecord?> GetExecutionAsync(string workspaceId, string pluginId, string id, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(pluginId) && StoreKeys.IsValidKey(id)
            ? (await _executions.GetAsync(ExecutionPartition(workspaceId, pluginId), id, cancellationToken))?.Value
            : null;

    public async Task<PluginExecutionRecord?> UpdateExecutionAsync(
        string workspaceId, string pluginId, string id, Func<PluginExecutionRecord, PluginExecutionRecord?> change, CancellationToken cancellationToken) =>
        (await _executions.UpdateAsync(ExecutionPartition(workspaceId, pluginId), id, change, cancellationToken))?.Value;

    public async Task<IReadOnlyList<PluginExecutionRecord>> RecentExecutionsAsync(string workspaceId, string pluginId, int limit, CancellationToken cancellationToken) =>
        (await _executions.ListAsync(ExecutionPartition(workspaceId, pluginId), new IndexQuery<PluginExecutionRecord> { Order = "createdAt", Descending = true, Limit = limit },
            cancellationToken)).Items;

    /// <summary>Deletes a plugin's execution history, so an id installed again starts with none of its predecessor's runs.</summary>
    public Task<int> DeleteExecutionsAsync(string workspaceId, string pluginId, CancellationToken cancellationToken) =>
        EntityPartitions.DeleteAllAsync(_store, ExecutionsTable, ExecutionPartition(workspaceId, pluginId), cancellationToken);

    private static string Purpose(string workspaceId, string pluginId, string field) => $"plugin-config:{workspaceId}:{pluginId}:{field}";
}
