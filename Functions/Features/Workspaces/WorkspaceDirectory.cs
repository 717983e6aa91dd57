using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Workspaces;

internal sealed record WorkspaceRecord(string Id, string Name, string? Description, string OwnerId, bool IsPersonal, DateTimeOffset CreatedAt);

internal sealed record MemberRecord(string UserId, string Role, DateTimeOffset JoinedAt);

/// <summary>
/// Workspaces and their members. The member row in the workspace's partition is the truth; the per-user row (a copy
/// of the workspace, so "my workspaces" sorts and pages in the store) is an index checked against it, so a
/// half-finished change never grants access. Both are listed from index rows beside them.
/// </summary>
/// <remarks>
/// A workspace's fields never change once it is created (there is no rename); one that did would have to rewrite its
/// members' per-user rows.
/// </remarks>
internal sealed class WorkspaceDirectory(IEntityStore store, IMemoryCache cache, TimeProvider time, ILogger<WorkspaceDirectory> logger) : IMembershipLookup
{
    public const string RoleFilter = "role";

    public static readonly ListIndex<MemberRecord> MemberIndex = new(
        version: 1,
        m => m.UserId,
        new Dictionary<string, Func<MemberRecord, string>>
        {
            ["joinedAt"] = m => m.JoinedAt.UtcDateTime.ToString("O"),
            ["role"] = m => m.Role,
        },
        new Dictionary<string, Func<MemberRecord, string?>> { [RoleFilter] = m => m.Role });

    /// <summary>A user's workspaces; the workspace filter lets a key bound to one workspace list just that one.</summary>
    public static readonly ListIndex<WorkspaceRecord> UserWorkspaceIndex = new(
        version: 1,
        w => w.Id,
        new Dictionary<string, Func<WorkspaceRecord, string>>
        {
            ["createdAt"] = w => w.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = w => w.Name.ToLowerInvariant(),
        },
        new Dictionary<string, Func<WorkspaceRecord, string?>> { ["workspace"] = w => w.Id });

    private const int MaxKnownUsers = 100_000;
    private static readonly TimeSpan RoleCacheTime = TimeSpan.FromSeconds(15);
    private readonly EntityTable<WorkspaceRecord> _workspaces = new(store, "workspaces");
    private readonly IndexedTable<MemberRecord> _members = new(store, "members", MemberIndex, EntityTable<MemberRecord>.Json);
    private readonly IndexedTable<WorkspaceRecord> _byUser = new(store, "userworkspaces", UserWorkspaceIndex, EntityTable<WorkspaceRecord>.Json);
    // The first release's per-user rows named only the workspace; they move to _byUser on the user's first list.
    private readonly EntityTable<MemberRecord> _legacyByUser = new(store, "usermemberships");
    private readonly ConcurrentDictionary<string, byte> _moved = new(StringComparer.Ordinal);

    public IndexedList<MemberRecord> Members => new(_members, "joinedAt", DefaultDescending: false, StatusFilter: RoleFilter);

    private IndexedList<WorkspaceRecord> UserWorkspaces => new(_byUser, "createdAt", DefaultDescending: false,
        Matches: (w, s) => w.Name.Contains(s, StringComparison.OrdinalIgnoreCase));

    public string[] UserWorkspaceSortFields => UserWorkspaces.SortFields;

    public async Task<WorkspaceRecord> CreateAsync(string? id, string name, string? description, string ownerId, bool personal, CancellationToken cancellationToken)
    {
        var workspace = new WorkspaceRecord(id ?? Secrets.NewId("ws"), name, description, ownerId, personal, time.GetUtcNow());
        await _workspaces.UpsertAsync(workspace.Id, "w", workspace, cancellationToken);
        var owner = new MemberRecord(ownerId, WorkspaceRole.Owner.ToWire(), time.GetUtcNow());
        await _members.UpsertAsync(workspace.Id, owner, cancellationToken);
        await _byUser.UpsertAsync(ownerId, workspace, cancellationToken);
        cache.Remove(CacheKey(workspace.Id, ownerId));
        return workspace;
    }

    /// <summary>Every workspace, in id order; <paramref name="search"/> matches the name (a scan: an admin list).</summary>
    public Task<PageResult<WorkspaceRecord>?> ListAllAsync(ListQuery query, string? search, CancellationToken cancellationToken) =>
        ScanPaging.PageAsync<WorkspaceRecord>(store, _workspaces.Name, new EntityQuery { RowKeyPrefix = "w" }, query,
            search is null ? null : w => w.Name.Contains(search, StringComparison.OrdinalIgnoreCase), cancellationToken);

    public async Task<WorkspaceRecord?> GetAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await _workspaces.FindAsync(workspaceId, "w", cancellationToken))?.Value;

    /// <summary>
    /// A page of the user's workspaces with their roles (only <paramref name="onlyWorkspaceId"/> when given), each
    /// checked against its member row; null when the cursor belongs to another list.
    /// </summary>
    public async Task<PageResult<(WorkspaceRecord Workspace, WorkspaceRole Role)>?> ListForUserAsync(
        string userId, string? onlyWorkspaceId, ListQuery query, CancellationToken cancellationToken)
    {
        await MoveLegacyRowsAsync(userId, cancellationToken);
        var roles = new Dictionary<string, WorkspaceRole>(StringComparer.Ordinal);
        var request = new ListRequest<WorkspaceRecord>
        {
            Filters = onlyWorkspaceId is null ? [] : [("workspace", onlyWorkspaceId)],
            Resolve = async (workspace, ct) =>
            {
                if (await GetRoleAsync(workspace.Id, userId, ct) is not { } role)
                {
                    return null;
                }

                roles[workspace.Id] = role;
                return workspace;
            },
        };
        var page = await IndexedPaging.PageAsync(UserWorkspaces, userId, query, request, cancellationToken);
        return page?.Map(w => (w, roles[w.Id]));
    }

    public async Task<MemberRecord?> GetMemberAsync(string workspaceId, string userId, CancellationToken cancellationToken) =>
        (await _members.GetAsync(workspaceId, userId, cancellationToken))?.Value;

    /// <summary>How many owners the workspace has, counted up to <paramref name="atMost"/>.</summary>
    public async Task<int> CountOwnersAsync(string workspaceId, int atMost, CancellationToken cancellationToken)
    {
        var query = new IndexQuery<MemberRecord> { Order = "joinedAt", Filter = (RoleFilter, WorkspaceRole.Owner.ToWire()), Limit = atMost };
        return (await _members.ListAsync(workspaceId, query, cancellationToken)).Items.Count;
    }

    /// <summary>Adds a member; null when the user already is one.</summary>
    public async Task<MemberRecord?> AddMemberAsync(string workspaceId, string userId, WorkspaceRole role, CancellationToken cancellationToken)
    {
        var member = new MemberRecord(userId, role.ToWire(), time.GetUtcNow());
        if (!(await _members.InsertAsync(workspaceId, member, cancellationToken)).Succeeded)
        {
            return null;
        }

        if (await GetAsync(workspaceId, cancellationToken) is { } workspace)
        {
            await _byUser.UpsertAsync(userId, workspace, cancellationToken);
        }

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

        var role = (await _members.GetAsync(workspaceId, userId, cancellationToken))?.Value.Role is { } wire ? WorkspaceRoles.Parse(wire) : null;
        cache.Set(key, role, RoleCacheTime);
        return role;
    }

    /// <summary>
    /// Moves the user's rows of the first release (which held no workspace fields to sort by) into the listed table,
    /// once: the old partition is emptied, so later calls cost one empty read per instance, then a lookup in memory.
    /// A row whose membership is gone is dropped.
    /// </summary>
    private async Task MoveLegacyRowsAsync(string userId, CancellationToken cancellationToken)
    {
        if (_moved.ContainsKey(userId) || !StoreKeys.IsValidKey(userId))
        {
            return;
        }

        await foreach (var row in _legacyByUser.QueryAllAsync(new EntityQuery { PartitionKey = userId, Take = EntityQuery.MaxTake }, cancellationToken))
        {
            if (await GetRoleAsync(row.RowKey, userId, cancellationToken) is not null && await GetAsync(row.RowKey, cancellationToken) is { } workspace)
            {
                await _byUser.UpsertAsync(userId, workspace, cancellationToken);
            }

            await _legacyByUser.DeleteAsync(userId, row.RowKey, row.ETag, cancellationToken);
        }

        if (_moved.Count >= MaxKnownUsers)
        {
            _moved.Clear();
        }

        _moved.TryAdd(userId, 0);
    }

    private static string CacheKey(string workspaceId, string userId) => "role:" + workspaceId + ":" + userId;
}
