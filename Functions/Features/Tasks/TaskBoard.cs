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

/// <summary>The workspace's tasks (Behflow), one row each in the workspace's partition; the API and the assistant's tools share it.</summary>
internal sealed class TaskBoard(IEntityStore store, TimeProvider time)
{
    private readonly EntityTable<TaskRecord> _tasks = new(store, "tasks");

    public async Task<List<TaskRecord>> ListAsync(string workspaceId, CancellationToken cancellationToken) =>
        [.. (await _tasks.ListPartitionAsync(workspaceId, cancellationToken)).Select(t => t.Value)];

    public async Task<TaskRecord?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        (await _tasks.FindAsync(workspaceId, id, cancellationToken))?.Value;

    public async Task<TaskRecord> CreateAsync(string workspaceId, string userId, TaskChanges changes, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var task = new TaskRecord(Secrets.NewId("task"), changes.Name!, changes.Description ?? "", changes.Status ?? TaskValues.NotStarted,
            changes.Priority ?? TaskValues.Medium, changes.DueDate, changes.Tags ?? [], userId, now, now);
        await _tasks.InsertAsync(workspaceId, task.Id, task, cancellationToken);
        return task;
    }

    public async Task<TaskRecord?> UpdateAsync(string workspaceId, string id, TaskChanges changes, CancellationToken cancellationToken)
    {
        if (!StoreKeys.IsValidKey(id))
        {
            return null;
        }

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
