using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Workflows;

internal static class WorkflowStatus
{
    public const string Active = "ACTIVE";
    public const string Paused = "PAUSED";
    public const string Archived = "ARCHIVED";

    public static bool IsValid(string? status) => status is Active or Paused or Archived;
}

internal sealed record WorkflowRecord(
    string Id,
    string WorkspaceId,
    string Name,
    string? Description,
    string Status,
    int Version,
    bool IsTemplate,
    WorkflowDefinition Definition,
    JsonObject? InputsSchema,
    string? AppId,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    decimal? MinutesSavedPerRun = null,
    string? StoreListingId = null);

internal sealed record WorkflowVersionRecord(int Version, WorkflowDefinition Definition, JsonObject? InputsSchema, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>
/// Workflows per workspace, each with an immutable row per version. Runs find sub-workflows through
/// <see cref="IWorkflowCatalog"/>, always inside the calling run's workspace.
/// </summary>
internal sealed class WorkflowStore(IEntityStore store, TimeProvider time) : IWorkflowCatalog
{
    /// <summary>The value of the <c>visible</c> filter for workflows that are not archived.</summary>
    public const string Visible = "yes";

    private const string VersionsTable = "workflowversions";

    public static readonly ListIndex<WorkflowRecord> Index = new(
        version: 1,
        w => w.Id,
        new Dictionary<string, Func<WorkflowRecord, string>>
        {
            ["createdAt"] = w => w.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = w => w.UpdatedAt.UtcDateTime.ToString("O"),
            ["name"] = w => w.Name.ToLowerInvariant(),
        },
        new Dictionary<string, Func<WorkflowRecord, string?>>
        {
            ["status"] = w => w.Status,
            // The default list leaves archived workflows out; this filter is that list, narrowed in the store.
            ["visible"] = w => w.Status == WorkflowStatus.Archived ? null : Visible,
        });

    public static readonly ListIndex<WorkflowVersionRecord> VersionIndex = new(
        version: 1,
        v => VersionKey(v.Version),
        new Dictionary<string, Func<WorkflowVersionRecord, string>> { ["version"] = v => VersionKey(v.Version) });

    private readonly IndexedTable<WorkflowRecord> _workflows = new(store, "workflows", Index, EntityTable<WorkflowRecord>.Json);
    private readonly IndexedTable<WorkflowVersionRecord> _versions = new(store, VersionsTable, VersionIndex, EntityTable<WorkflowVersionRecord>.Json);

    /// <summary>A workspace's workflows (partition = workspace id), newest first unless asked otherwise.</summary>
    public IndexedList<WorkflowRecord> List => new(_workflows, "createdAt", DefaultDescending: true,
        Matches: (w, s) => w.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || (w.Description ?? "").Contains(s, StringComparison.OrdinalIgnoreCase),
        StatusFilter: "status");

    /// <summary>A workflow's versions (partition = workflow id), newest first.</summary>
    public IndexedList<WorkflowVersionRecord> Versions => new(_versions, "version", DefaultDescending: true);

    public static WorkflowDefinition DefaultDefinition { get; } = new(
        [new NodeDefinition("start", "start", "Start", null), new NodeDefinition("end", "end", "End", new JsonObject { ["outputs"] = new JsonObject() })],
        [new EdgeDefinition("start", "end", null)]);

    public async Task<WorkflowRecord> CreateAsync(
        string workspaceId, string name, string? description, string status, bool isTemplate, WorkflowDefinition definition,
        JsonObject? inputsSchema, string? appId, string userId, CancellationToken cancellationToken, decimal? minutesSavedPerRun = null)
    {
        var now = time.GetUtcNow();
        var record = new WorkflowRecord(Secrets.NewId("wf"), workspaceId, name, description, status, 1, isTemplate, definition, inputsSchema, appId, userId, now, now,
            minutesSavedPerRun);
        await _versions.InsertAsync(record.Id, new WorkflowVersionRecord(1, definition, inputsSchema, userId, now), cancellationToken);
        await _workflows.InsertAsync(workspaceId, record, cancellationToken);
        return record;
    }

    public Task<StoredItem<WorkflowRecord>?> GetAsync(string workspaceId, string workflowId, CancellationToken cancellationToken) =>
        _workflows.GetAsync(workspaceId, workflowId, cancellationToken);

    /// <summary>Replaces the record under its ETag; when the definition or inputs schema changed, first saves them as the next version.</summary>
    public async Task<WorkflowRecord?> SaveAsync(StoredItem<WorkflowRecord> current, WorkflowRecord updated, bool newVersion, string userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (newVersion)
        {
            updated = updated with { Version = current.Value.Version + 1 };
            // The version row goes first and is never overwritten: two racing edits cannot both become version n.
            var inserted = await _versions.InsertAsync(updated.Id,
                new WorkflowVersionRecord(updated.Version, updated.Definition, updated.InputsSchema, userId, now), cancellationToken);
            if (!inserted.Succeeded)
            {
                return null;
            }
        }

        updated = updated with { UpdatedAt = now };
        return (await _workflows.ReplaceAsync(current.Value.WorkspaceId, current, updated, cancellationToken)).Succeeded ? updated : null;
    }

    public async Task DeleteAsync(WorkflowRecord workflow, CancellationToken cancellationToken)
    {
        await _workflows.DeleteAsync(workflow.WorkspaceId, workflow.Id, null, cancellationToken);
        // The versions' partition is the workflow's own: it goes whole, index rows included.
        await EntityPartitions.DeleteAllAsync(store, VersionsTable, workflow.Id, cancellationToken);
    }

    public async Task<WorkflowVersionRecord?> GetVersionAsync(string workflowId, int version, CancellationToken cancellationToken) =>
        (await _versions.GetAsync(workflowId, VersionKey(version), cancellationToken))?.Value;

    public async Task<CatalogEntry?> FindAsync(string workspaceId, string workflowId, int? version, CancellationToken cancellationToken)
    {
        var workflow = (await GetAsync(workspaceId, workflowId, cancellationToken))?.Value;
        if (workflow is null || workflow.Status != WorkflowStatus.Active)
        {
            return null;
        }

        var entry = version is null || version == workflow.Version
            ? new CatalogEntry(workflow.Id, workflow.Version, workflow.Definition)
            : await GetVersionAsync(workflowId, version.Value, cancellationToken) is { } pinned ? new CatalogEntry(workflow.Id, pinned.Version, pinned.Definition) : null;
        // An empty draft is the one definition stored unchecked; as a child it cannot run, so the parent's node fails.
        return entry is null || WorkflowChecks.IsEmptyDraft(entry.Definition) ? null : entry;
    }

    private static string VersionKey(int version) => version.ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
}
