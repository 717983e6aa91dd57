using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Identity;

internal sealed record RefreshTokenRecord(string UserId, string FamilyId, string SecurityStamp, DateTimeOffset? UsedAt, DateTimeOffset ExpiresAt) : IExpiring;

internal sealed record TokenFamilyRecord(string UserId, bool Revoked, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt) : IExpiring;

internal sealed record SessionTokens(string AccessToken, string RefreshToken, int ExpiresIn);

internal enum RefreshOutcome
{
    Refreshed,
    Invalid,
    ReuseDetected,
    Disabled,
}

/// <summary>
/// Sessions: a short-lived JWT plus an opaque refresh token, stored hashed. Each refresh rotates the token
/// within its family; presenting a token that was already rotated means it leaked, so the whole family dies.
/// </summary>
internal sealed class Sessions(
    IEntityStore store, AccessTokens accessTokens, Expirations expirations, IOptions<AuthOptions> options, TimeProvider time, ILogger<Sessions> logger)
{
    private readonly EntityTable<RefreshTokenRecord> _tokens = new(store, "refreshtokens");
    private readonly EntityTable<TokenFamilyRecord> _families = new(store, "tokenfamilies");

    public async Task<SessionTokens> StartAsync(UserRecord user, CancellationToken cancellationToken)
    {
        var familyId = Secrets.NewId("fam");
        var now = time.GetUtcNow();
        var family = new TokenFamilyRecord(user.Id, false, now, now.AddDays(options.Value.RefreshTokenDays));
        await _families.InsertAsync(familyId, "f", family, cancellationToken);
        await expirations.ScheduleAsync(_families.Name, familyId, "f", family.ExpiresAt, cancellationToken);
        return await IssueAsync(user, familyId, family.ExpiresAt, cancellationToken);
    }

    public async Task<(RefreshOutcome Outcome, SessionTokens? Tokens, UserRecord? User)> RefreshAsync(string refreshToken, UserDirectory users, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(refreshToken);
        var stored = await _tokens.GetAsync(hash, "t", cancellationToken);
        var now = time.GetUtcNow();
        if (stored is null || stored.Value.ExpiresAt <= now)
        {
            return (RefreshOutcome.Invalid, null, null);
        }

        var family = await _families.GetAsync(stored.Value.FamilyId, "f", cancellationToken);
        if (family is null || family.Value.Revoked)
        {
            return (RefreshOutcome.Invalid, null, null);
        }

        if (stored.Value.UsedAt is not null)
        {
            await RevokeForReuseAsync(stored.Value, cancellationToken);
            return (RefreshOutcome.ReuseDetected, null, null);
        }

        var user = await users.GetAsync(stored.Value.UserId, cancellationToken);
        if (user is { Disabled: true })
        {
            return (RefreshOutcome.Disabled, null, null);
        }

        if (user is null || user.SecurityStamp != stored.Value.SecurityStamp)
        {
            return (RefreshOutcome.Invalid, null, null);
        }

        // Two refreshes racing with one token: only one may win; the loser is treated as reuse.
        var marked = await _tokens.ReplaceAsync(stored, stored.Value with { UsedAt = now }, cancellationToken);
        if (!marked.Succeeded)
        {
            await RevokeForReuseAsync(stored.Value, cancellationToken);
            return (RefreshOutcome.ReuseDetected, null, null);
        }

        return (RefreshOutcome.Refreshed, await IssueAsync(user, stored.Value.FamilyId, family.Value.ExpiresAt, cancellationToken), user);
    }

    /// <summary>Ends the session the refresh token belongs to; unknown tokens are ignored.</summary>
    public async Task EndAsync(string refreshToken, CancellationToken cancellationToken)
    {
        if (await _tokens.GetAsync(Secrets.Hash(refreshToken), "t", cancellationToken) is { } stored)
        {
            await RevokeFamilyAsync(stored.Value.FamilyId, cancellationToken);
        }
    }

    private async Task RevokeForReuseAsync(RefreshTokenRecord token, CancellationToken cancellationToken)
    {
        await RevokeFamilyAsync(token.FamilyId, cancellationToken);
        IdentityLog.RefreshReuse(logger, token.UserId, token.FamilyId);
    }

    private Task RevokeFamilyAsync(string familyId, CancellationToken cancellationToken) =>
        _families.UpdateAsync(familyId, "f", f => f.Revoked ? null : f with { Revoked = true }, cancellationToken);

    private async Task<SessionTokens> IssueAsync(UserRecord user, string familyId, DateTimeOffset familyExpiresAt, CancellationToken cancellationToken)
    {
        var token = "rt_" + Secrets.NewToken();
        var hash = Secrets.Hash(token);
        var record = new RefreshTokenRecord(user.Id, familyId, user.SecurityStamp, null, familyExpiresAt);
        await _tokens.InsertAsync(hash, "t", record, cancellationToken);
        await expirations.ScheduleAsync(_tokens.Name, hash, "t", record.ExpiresAt, cancellationToken);
        var access = accessTokens.Issue(user.Id, user.PersonalWorkspaceId, user.IsPlatformAdmin);
        return new SessionTokens(access, token, (int)accessTokens.Lifetime.TotalSeconds);
    }
}
