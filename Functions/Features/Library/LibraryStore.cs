using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
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
    /// <summary>The <c>status</c> of a favourite agent; the others are <see cref="Saved"/>.</summary>
    public const string Favorite = "favorite";

    public const string Saved = "saved";

    public static readonly ListIndex<LibraryAgentRecord> AgentIndex = new(
        version: 1,
        a => a.Id,
        new Dictionary<string, Func<LibraryAgentRecord, string>>
        {
            ["createdAt"] = a => a.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = a => a.Name.ToLowerInvariant(),
        },
        new Dictionary<string, Func<LibraryAgentRecord, string?>> { ["status"] = a => a.IsFavorite ? Favorite : Saved });

    public static readonly ListIndex<PresetRecord> PresetIndex = new(
        version: 1,
        p => p.Id,
        new Dictionary<string, Func<PresetRecord, string>>
        {
            ["createdAt"] = p => p.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = p => p.Name.ToLowerInvariant(),
        },
        new Dictionary<string, Func<PresetRecord, string?>> { ["workflow"] = p => p.WorkflowId });

    /// <summary>Partition = workspace id.</summary>
    public IndexedTable<LibraryAgentRecord> Agents { get; } = new(store, "libraryagents", AgentIndex, EntityTable<LibraryAgentRecord>.Json);

    /// <summary>Partition = workspace id.</summary>
    public IndexedTable<PresetRecord> Presets { get; } = new(store, "librarypresets", PresetIndex, EntityTable<PresetRecord>.Json);

    /// <summary>Saved agents, newest first unless asked otherwise; <c>status</c> is favorite or saved.</summary>
    public IndexedList<LibraryAgentRecord> AgentList => new(Agents, "createdAt", DefaultDescending: true,
        Matches: (a, s) => a.Name.Contains(s, StringComparison.OrdinalIgnoreCase), StatusFilter: "status");

    /// <summary>Presets, newest first unless asked otherwise.</summary>
    public IndexedList<PresetRecord> PresetList => new(Presets, "createdAt", DefaultDescending: true,
        Matches: (p, s) => p.Name.Contains(s, StringComparison.OrdinalIgnoreCase));

    public static string NewAgentId() => Secrets.NewId("agent");

    public static string NewPresetId() => Secrets.NewId("preset");
}
