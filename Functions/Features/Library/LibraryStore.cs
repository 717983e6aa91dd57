using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Library;

internal sealed record LibraryAgentRecord(
    string Id, string WorkflowId, int? WorkflowVersion, string Name, string? Description, bool IsFavorite, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record PresetRecord(
    string Id, string WorkflowId, int? WorkflowVersion, string Name, string? Description, JsonObject Inputs, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A workspace's library (AutoGPT): saved agents (workflows picked for use) and presets (saved inputs for a workflow).</summary>
internal sealed class LibraryStore(IEntityStore store)
{
    public EntityTable<LibraryAgentRecord> Agents { get; } = new(store, "libraryagents");

    public EntityTable<PresetRecord> Presets { get; } = new(store, "librarypresets");

    public static string NewAgentId() => Secrets.NewId("agent");

    public static string NewPresetId() => Secrets.NewId("preset");
}
