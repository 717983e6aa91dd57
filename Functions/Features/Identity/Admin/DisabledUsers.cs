using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Identity.Admin;

internal sealed record DisabledUsersRecord(IReadOnlyList<string> UserIds);

/// <summary>
/// The ids of disabled users, in one row: authentication asks on every request, so each instance keeps a copy for
/// <c>Auth__UserStatusCacheSeconds</c> and reads the row again after that — one read per instance per period, whatever
/// the traffic. The instance that disables a user refreshes its copy at once; others follow within the period. The
/// user row's <see cref="UserRecord.Disabled"/> flag is what sign-in and refresh check (they read the user anyway).
/// </summary>
internal sealed class DisabledUsers(IEntityStore store, IOptions<AuthOptions> options, TimeProvider time) : IUserStatus
{
    private const string Partition = "users";
    private const string Row = "disabled";

    private readonly EntityTable<DisabledUsersRecord> _platform = new(store, "platform");
    private readonly Lock _lock = new();
    private Task<IReadOnlySet<string>>? _loading;
    private DateTimeOffset _loadedAt = DateTimeOffset.MinValue;

    public async ValueTask<bool> IsDisabledAsync(string userId, CancellationToken cancellationToken) =>
        (await CurrentAsync()).Contains(userId);

    public async Task AddAsync(string userId, CancellationToken cancellationToken) =>
        await ChangeAsync(ids => ids.Contains(userId, StringComparer.Ordinal) ? null : [.. ids, userId], cancellationToken);

    public async Task RemoveAsync(string userId, CancellationToken cancellationToken) =>
        await ChangeAsync(ids => ids.Contains(userId, StringComparer.Ordinal) ? [.. ids.Where(id => id != userId)] : null, cancellationToken);

    private async Task ChangeAsync(Func<IReadOnlyList<string>, IReadOnlyList<string>?> change, CancellationToken cancellationToken)
    {
        if (change([]) is { } first)
        {
            // The row may not exist yet; the insert wins only then, otherwise the update below applies the change.
            await _platform.InsertAsync(Partition, Row, new DisabledUsersRecord(first), cancellationToken);
        }

        await _platform.UpdateAsync(Partition, Row, r => change(r.UserIds) is { } ids ? new DisabledUsersRecord(ids) : null, cancellationToken);
        lock (_lock)
        {
            _loading = null;
        }
    }

    private Task<IReadOnlySet<string>> CurrentAsync()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_loading is null || _loading.IsFaulted || _loading.IsCanceled || now - _loadedAt >= TimeSpan.FromSeconds(options.Value.UserStatusCacheSeconds))
            {
                _loadedAt = now;
                _loading = LoadAsync();
            }

            return _loading;
        }
    }

    private async Task<IReadOnlySet<string>> LoadAsync()
    {
        // Shared by every request waiting on it: not one caller's cancellation.
        var row = await _platform.GetAsync(Partition, Row, CancellationToken.None);
        return row?.Value.UserIds.ToHashSet(StringComparer.Ordinal) ?? new HashSet<string>(StringComparer.Ordinal);
    }
}
