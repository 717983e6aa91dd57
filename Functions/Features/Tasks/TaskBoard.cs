using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Tasks;

internal sealed record TaskRecord(
    string Id,
    string Name,
    string Description,
    string Status,
    string Priority,
    DateTimeOffset? DueDate,
    IReadOnlyList<string> Tags,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

internal sealed record TaskDto(
    string Id, string Name, string Description, string Status, string Priority, DateTimeOffset? DueDate, IReadOnlyList<string> Tags,
    string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static TaskDto From(TaskRecord t) => new(t.Id, t.Name, t.Description, t.Status, t.Priority, t.DueDate, t.Tags, t.CreatedBy, t.CreatedAt, t.UpdatedAt);
}

/// <summary>
/// The workspace's tasks (Behflow), one row each in the workspace's partition beside the index rows that list them;
/// the API and the assistant's tools share it.
/// </summary>
internal sealed class TaskBoard(IEntityStore store, TimeProvider time)
{
    public static readonly ListIndex<TaskRecord> Index = new(
        version: 1,
        t => t.Id,
        new Dictionary<string, Func<TaskRecord, string>>
        {
            ["createdAt"] = t => t.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = t => t.UpdatedAt.UtcDateTime.ToString("O"),
            // Tasks without a due date sort after every dated one.
            ["dueDate"] = t => t.DueDate?.UtcDateTime.ToString("O") ?? "~",
            ["priority"] = t => TaskValues.Rank(t.Priority).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["name"] = t => t.Name.ToLowerInvariant(),
            ["status"] = t => t.Status,
        },
        new Dictionary<string, Func<TaskRecord, string?>>
        {
            ["status"] = t => t.Status,
            ["priority"] = t => t.Priority,
        });

    private readonly IndexedTable<TaskRecord> _tasks = new(store, "tasks", Index, EntityTable<TaskRecord>.Json);

    public IndexedList<TaskRecord> List => new(_tasks, "createdAt", DefaultDescending: true,
        Matches: (t, s) => t.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || t.Description.Contains(s, StringComparison.OrdinalIgnoreCase),
        StatusFilter: "status");

    public async Task<TaskRecord?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        (await _tasks.GetAsync(workspaceId, id, cancellationToken))?.Value;

    public async Task<TaskRecord> CreateAsync(string workspaceId, string userId, TaskChanges changes, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var task = new TaskRecord(Secrets.NewId("task"), changes.Name!, changes.Description ?? "", changes.Status ?? TaskValues.NotStarted,
            changes.Priority ?? TaskValues.Medium, changes.DueDate, changes.Tags ?? [], userId, now, now);
        await _tasks.InsertAsync(workspaceId, task, cancellationToken);
        return task;
    }

    public async Task<TaskRecord?> UpdateAsync(string workspaceId, string id, TaskChanges changes, CancellationToken cancellationToken)
    {
        var updated = await _tasks.UpdateAsync(workspaceId, id, t => t with
        {
            Name = changes.Name ?? t.Name,
            Description = changes.Description ?? t.Description,
            Status = changes.Status ?? t.Status,
            Priority = changes.Priority ?? t.Priority,
            DueDate = changes.ClearDueDate ? null : changes.DueDate ?? t.DueDate,
            Tags = changes.Tags ?? t.Tags,
            UpdatedAt = time.GetUtcNow(),
        }, cancellationToken);
        return updated?.Value;
    }

    public async Task<bool> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(id) && (await _tasks.DeleteAsync(workspaceId, id, null, cancellationToken)).Succeeded;
}
