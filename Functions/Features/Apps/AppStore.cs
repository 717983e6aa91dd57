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
    private readonly EntityTable<AppRecord> _apps = new(store, "apps");

    public string NewId() => Secrets.NewId("app");

    public async Task<AppRecord> CreateAsync(AppRecord app, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var created = app with { CreatedAt = now, UpdatedAt = now };
        await _apps.InsertAsync(app.WorkspaceId, app.Id, created, cancellationToken);
        return created;
    }

    public Task<Stored<AppRecord>?> GetAsync(string workspaceId, string appId, CancellationToken cancellationToken) =>
        _apps.FindAsync(workspaceId, appId, cancellationToken);

    public async Task<List<AppRecord>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        [.. (await _apps.ListPartitionAsync(workspaceId, cancellationToken)).Select(a => a.Value)];

    public async Task<AppRecord?> SaveAsync(Stored<AppRecord> current, AppRecord updated, CancellationToken cancellationToken)
    {
        updated = updated with { UpdatedAt = time.GetUtcNow() };
        return (await _apps.ReplaceAsync(current, updated, cancellationToken)).Succeeded ? updated : null;
    }

    public Task DeleteAsync(AppRecord app, CancellationToken cancellationToken) => _apps.DeleteAsync(app.WorkspaceId, app.Id, null, cancellationToken);
}
