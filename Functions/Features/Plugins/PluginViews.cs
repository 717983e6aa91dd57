using System.Text.Json.Nodes;

namespace Serverless.Functions.Features.Plugins;

/// <summary>A plugin as listed: its manifest (schemas included), whether it is built in and enabled, and what the workspace granted it.</summary>
internal sealed record PluginDto(
    string Id, string Name, string Version, string Description, IReadOnlyList<string> Categories, bool Builtin, bool Enabled,
    PluginRuntime Runtime, PluginCapabilities Requested, PluginCapabilities Granted, JsonObject InputSchema, JsonObject OutputSchema, JsonObject ConfigSchema,
    DateTimeOffset? InstalledAt)
{
    public static PluginDto From(WorkspacePlugin p)
    {
        var m = p.Manifest;
        return new(m.Id, m.Name, m.Version, m.Description, m.Categories, p.Builtin is not null, p.Enabled, m.Runtime, m.Capabilities, p.Granted,
            m.InputSchema, m.OutputSchema, m.ConfigSchema, p.Builtin is null ? p.Record?.InstalledAt : null);
    }
}

/// <summary>A plugin's config as shown: plain values, and the names of secret fields that are set (their values are write-only).</summary>
internal sealed record PluginConfigDto(string PluginId, JsonObject Values, IReadOnlyList<string> SecretsSet, IReadOnlyList<string> SecretFields, DateTimeOffset? UpdatedAt);

internal sealed record PluginExecutionDto(
    string Id, string PluginId, string Status, string Source, JsonNode? Output, PluginExecutionError? Error, long? LatencyMs,
    DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt)
{
    public static PluginExecutionDto From(PluginExecutionRecord e) => new(e.Id, e.PluginId, e.Status, e.Source, e.Output,
        e.ErrorCode is null ? null : new PluginExecutionError(e.ErrorCode, e.Error ?? ""), e.LatencyMs, e.CreatedAt, e.CompletedAt);
}

internal sealed record PluginExecutionError(string Code, string Message);
