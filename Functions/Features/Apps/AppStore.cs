using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Apps;

internal static class AppTypes
{
    public const string Workflow = "workflow";
    public const string Chatbot = "chatbot";
    public const string Agent = "agent";

    public static bool IsValid(string? type) => type is Workflow or Chatbot or Agent;
}

internal static class AppStatus
{
    public const string Draft = "draft";
    public const string Published = "published";

    public static bool IsValid(string? status) => status is Draft or Published;
}

internal sealed record AppConfig(string? Model, double? Temperature, int? MaxTokens, string? SystemPrompt, IReadOnlyList<string>? DatasetIds);

internal sealed record AppRecord(
    string Id,
    string WorkspaceId,
    string Name,
    string? Description,
    string Type,
    string Status,
    AppConfig Config,
    string? WorkflowId,
    IReadOnlyList<string> Tags,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>Apps per workspace. A workflow app owns a workflow (the workflow points back with its appId).</summary>
internal sealed class AppStore(IEntityStore store, TimeProvider time)
{
    public static readonly ListIndex<AppRecord> Index = new(
        version: 1,
        a => a.Id,
        new Dictionary<string, Func<AppRecord, string>>
        {
            ["createdAt"] = a => a.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = a => a.UpdatedAt.UtcDateTime.ToString("O"),
            ["name"] = a => a.Name.ToLowerInvariant(),
        },
        new Dictionary<string, Func<AppRecord, string?>>
        {
            ["status"] = a => a.Status,
            ["type"] = a => a.Type,
        });

    private readonly IndexedTable<AppRecord> _apps = new(store, "apps", Index, EntityTable<AppRecord>.Json);

    /// <summary>A workspace's apps (partition = workspace id), newest first unless asked otherwise.</summary>
    public IndexedList<AppRecord> List => new(_apps, "createdAt", DefaultDescending: true,
        Matches: (a, s) => a.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || (a.Description ?? "").Contains(s, StringComparison.OrdinalIgnoreCase)
            || a.Tags.Any(t => t.Equals(s, StringComparison.OrdinalIgnoreCase)),
        StatusFilter: "status");

    public string NewId() => Secrets.NewId("app");

    public async Task<AppRecord> CreateAsync(AppRecord app, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var created = app with { CreatedAt = now, UpdatedAt = now };
        await _apps.InsertAsync(app.WorkspaceId, created, cancellationToken);
        return created;
    }

    public Task<StoredItem<AppRecord>?> GetAsync(string workspaceId, string appId, CancellationToken cancellationToken) =>
        _apps.GetAsync(workspaceId, appId, cancellationToken);

    public async Task<AppRecord?> SaveAsync(StoredItem<AppRecord> current, AppRecord updated, CancellationToken cancellationToken)
    {
        updated = updated with { UpdatedAt = time.GetUtcNow() };
        return (await _apps.ReplaceAsync(current.Value.WorkspaceId, current, updated, cancellationToken)).Succeeded ? updated : null;
    }

    public Task DeleteAsync(AppRecord app, CancellationToken cancellationToken) => _apps.DeleteAsync(app.WorkspaceId, app.Id, null, cancellationToken);
}
