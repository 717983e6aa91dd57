using Microsoft.Extensions.Caching.Memory;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Workspaces;

internal sealed record WorkspaceRecord(string Id, string Name, string? Description, string OwnerId, bool IsPersonal, DateTimeOffset CreatedAt);

internal sealed record MemberRecord(string UserId, string Role, DateTimeOffset JoinedAt);

/// <summary>
/// Workspaces and their members. The member row in the workspace's partition is the truth; the per-user row is
/// an index for "my workspaces" and is checked against it, so a half-finished change never grants access.
/// </summary>
internal sealed class WorkspaceDirectory(IEntityStore store, IMemoryCache cache, TimeProvider time, ILogger<WorkspaceDirectory> logger) : IMembershipLookup
{
    private static readonly TimeSpan RoleCacheTime = TimeSpan.FromSeconds(15);
    private readonly EntityTable<WorkspaceRecord> _workspaces = new(store, "workspaces");
    private readonly EntityTable<MemberRecord> _members = new(store, "members");
    private readonly EntityTable<MemberRecord> _byUser = new(store, "usermemberships");

    public async Task<WorkspaceRecord> CreateAsync(string? id, string name, string? description, string ownerId, bool personal, CancellationToken cancellationToken)
    {
        var workspace = new WorkspaceRecord(id ?? Secrets.NewId("ws"), name, description, ownerId, personal, time.GetUtcNow());
        await _workspaces.UpsertAsync(workspace.Id, "w", workspace, cancellationToken);
        await PutMemberAsync(workspace.Id, ownerId, WorkspaceRole.Owner, cancellationToken);
        return workspace;
    }

    public async Task<WorkspaceRecord?> GetAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await _workspaces.FindAsync(workspaceId, "w", cancellationToken))?.Value;

    public async Task<List<(WorkspaceRecord Workspace, WorkspaceRole Role)>> ListForUserAsync(string userId, CancellationToken cancellationToken)
    {
        var result = new List<(WorkspaceRecord, WorkspaceRole)>();
        foreach (var index in await _byUser.ListPartitionAsync(userId, cancellationToken))
        {
            var role = await GetRoleAsync(index.RowKey, userId, cancellationToken);
            if (role is not null && await GetAsync(index.RowKey, cancellationToken) is { } workspace)
            {
                result.Add((workspace, role.Value));
            }
        }

        return result;
    }

    public async Task<List<MemberRecord>> ListMembersAsync(string workspaceId, CancellationToken cancellationToken) =>
        [.. (await _members.ListPartitionAsync(workspaceId, cancellationToken)).Select(m => m.Value)];

    /// <summary>Adds a member; false when the user already is one.</summary>
    public async Task<MemberRecord?> AddMemberAsync(string workspaceId, string userId, WorkspaceRole role, CancellationToken cancellationToken)
    {
        var member = new MemberRecord(userId, role.ToWire(), time.GetUtcNow());
        if (!(await _members.InsertAsync(workspaceId, userId, member, cancellationToken)).Succeeded)
        {
            return null;
        }

        await _byUser.UpsertAsync(userId, workspaceId, member, cancellationToken);
        cache.Remove(CacheKey(workspaceId, userId));
        WorkspacesLog.MemberAdded(logger, userId, workspaceId, member.Role);
        return member;
    }

    public async Task<bool> RemoveMemberAsync(string workspaceId, string userId, CancellationToken cancellationToken)
    {
        var removed = (await _members.DeleteAsync(workspaceId, userId, null, cancellationToken)).Succeeded;
        await _byUser.DeleteAsync(userId, workspaceId, null, cancellationToken);
        cache.Remove(CacheKey(workspaceId, userId));
        WorkspacesLog.MemberRemoved(logger, userId, workspaceId);
        return removed;
    }

    public async ValueTask<WorkspaceRole?> GetRoleAsync(string workspaceId, string userId, CancellationToken cancellationToken)
    {
        var key = CacheKey(workspaceId, userId);
        if (cache.TryGetValue(key, out WorkspaceRole? cached))
        {
            return cached;
        }

        var role = (await _members.FindAsync(workspaceId, userId, cancellationToken))?.Value.Role is { } wire ? WorkspaceRoles.Parse(wire) : null;
        cache.Set(key, role, RoleCacheTime);
        return role;
    }

    private async Task PutMemberAsync(string workspaceId, string userId, WorkspaceRole role, CancellationToken cancellationToken)
    {
        var member = new MemberRecord(userId, role.ToWire(), time.GetUtcNow());
        await _members.UpsertAsync(workspaceId, userId, member, cancellationToken);
        await _byUser.UpsertAsync(userId, workspaceId, member, cancellationToken);
        cache.Remove(CacheKey(workspaceId, userId));
    }

    private static string CacheKey(string workspaceId, string userId) => "role:" + workspaceId + ":" + userId;
}
