using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Identity;

internal sealed record UserSettings(string Theme = "system", string Language = "en", string Timezone = "UTC", bool EmailNotifications = true);

internal sealed record UserRecord(
    string Id,
    string? Email,
    string? Username,
    string? Name,
    string? Lastname,
    string PasswordHash,
    bool IsPlatformAdmin,
    bool EmailVerified,
    string PersonalWorkspaceId,
    int FailedLogins,
    DateTimeOffset? LockedUntil,
    string SecurityStamp,
    UserSettings Settings,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    bool Disabled = false);

internal sealed record LoginRecord(string UserId, DateTimeOffset ClaimedAt);

/// <summary>
/// Users, addressed by id, plus a login index (email and username, normalised and hashed into a legal key).
/// A login row whose user never got written (a crash mid-registration) is taken over by a later registration,
/// but only once it is clearly abandoned: a younger one may belong to a registration still in progress.
/// </summary>
internal sealed class UserDirectory(IEntityStore store, IOptions<AuthOptions> options, TimeProvider time, ILogger<UserDirectory> logger) : IUserLookup
{
    private readonly EntityTable<UserRecord> _users = new(store, "users");
    private readonly EntityTable<LoginRecord> _logins = new(store, "userlogins");
    private readonly EntityTable<LoginRecord> _platform = new(store, "platform");
    private static readonly TimeSpan AbandonedClaimAge = TimeSpan.FromMinutes(2);
    private readonly PasswordHasher<UserRecord> _hasher = new(Options.Create(new PasswordHasherOptions { IterationCount = options.Value.PasswordHashIterations }));

    public string HashPassword(UserRecord? user, string password) => _hasher.HashPassword(user!, password);

    public PasswordVerificationResult VerifyPassword(UserRecord user, string password) => _hasher.VerifyHashedPassword(user, user.PasswordHash, password);

    public async Task<UserRecord?> GetAsync(string userId, CancellationToken cancellationToken) =>
        (await _users.FindAsync(userId, "u", cancellationToken))?.Value;

    /// <summary>Counts a failed sign-in; the one that reaches the threshold locks the account. Returns the lock's end, if locked.</summary>
    public async Task<DateTimeOffset?> RecordFailedSignInAsync(string userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var o = options.Value;
        var after = await UpdateAsync(userId, u =>
        {
            var failures = u.FailedLogins + 1;
            return failures >= o.LockoutThreshold
                ? u with { FailedLogins = 0, LockedUntil = now.AddMinutes(o.LockoutMinutes) }
                : u with { FailedLogins = failures };
        }, cancellationToken);
        if (after?.Value.LockedUntil is not { } lockedUntil || lockedUntil <= now)
        {
            return null;
        }

        IdentityLog.LockedOut(logger, userId, lockedUntil);
        return lockedUntil;
    }

    public Task<Stored<UserRecord>?> UpdateAsync(string userId, Func<UserRecord, UserRecord?> change, CancellationToken cancellationToken) =>
        _users.UpdateAsync(userId, "u", change, cancellationToken);

    /// <summary>Every user, in id order; <paramref name="search"/> matches email, username or name (a scan: an admin list).</summary>
    public Task<PageResult<UserRecord>?> ListAsync(ListQuery query, string? search, CancellationToken cancellationToken) =>
        ScanPaging.PageAsync<UserRecord>(store, _users.Name, new EntityQuery { RowKeyPrefix = "u" }, query, search is null ? null : u =>
            (u.Email ?? "").Contains(search, StringComparison.OrdinalIgnoreCase) || (u.Username ?? "").Contains(search, StringComparison.OrdinalIgnoreCase)
            || (u.Name ?? "").Contains(search, StringComparison.OrdinalIgnoreCase), cancellationToken);

    public async Task<UserRecord?> FindByLoginValueAsync(string emailOrUsername, CancellationToken cancellationToken)
    {
        var kind = emailOrUsername.Contains('@', StringComparison.Ordinal) ? "email" : "username";
        var login = await _logins.GetAsync(kind, LoginKey(emailOrUsername), cancellationToken);
        return login is null ? null : await GetAsync(login.Value.UserId, cancellationToken);
    }

    /// <summary>Claims a login for a user; false when another existing user holds it.</summary>
    public async Task<bool> ClaimLoginAsync(string kind, string value, string userId, CancellationToken cancellationToken)
    {
        var key = LoginKey(value);
        var claim = new LoginRecord(userId, time.GetUtcNow());
        while (true)
        {
            if ((await _logins.InsertAsync(kind, key, claim, cancellationToken)).Succeeded)
            {
                return true;
            }

            var existing = await _logins.GetAsync(kind, key, cancellationToken);
            if (existing is null)
            {
                continue;
            }

            if (existing.Value.UserId == userId)
            {
                return true;
            }

            if (existing.Value.ClaimedAt + AbandonedClaimAge > claim.ClaimedAt || await GetAsync(existing.Value.UserId, cancellationToken) is not null)
            {
                return false;
            }

            if ((await _logins.ReplaceAsync(existing, claim, cancellationToken)).Succeeded)
            {
                return true;
            }
        }
    }

    public Task ReleaseLoginAsync(string kind, string value, CancellationToken cancellationToken) =>
        _logins.DeleteAsync(kind, LoginKey(value), null, cancellationToken);

    public Task<WriteResult> InsertAsync(UserRecord user, CancellationToken cancellationToken) => _users.InsertAsync(user.Id, "u", user, cancellationToken);

    /// <summary>The first user to register becomes platform admin; exactly one wins, even when registrations race.</summary>
    public async Task<bool> ClaimPlatformAdminAsync(string userId, CancellationToken cancellationToken)
    {
        if ((await _platform.InsertAsync("admin", "first", new LoginRecord(userId, time.GetUtcNow()), cancellationToken)).Succeeded)
        {
            return true;
        }

        var holder = await _platform.GetAsync("admin", "first", cancellationToken);
        return holder?.Value.UserId == userId;
    }

    async Task<UserSummary?> IUserLookup.FindByIdAsync(string userId, CancellationToken cancellationToken) =>
        ToSummary(await GetAsync(userId, cancellationToken));

    async Task<UserSummary?> IUserLookup.FindByLoginAsync(string emailOrUsername, CancellationToken cancellationToken) =>
        ToSummary(await FindByLoginValueAsync(emailOrUsername, cancellationToken));

    public static string Normalize(string value) => value.Trim().ToLowerInvariant();

    private static string LoginKey(string value) => Secrets.Hash(Normalize(value));

    private static UserSummary? ToSummary(UserRecord? user) =>
        user is null ? null : new UserSummary(user.Id, user.Email, user.Username, user.Name, user.Lastname, user.IsPlatformAdmin);
}
