using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Identity.OAuth;

internal sealed record ExternalIdentityRecord(string Provider, string Subject, string? Email, bool EmailVerified, DateTimeOffset LinkedAt);

internal sealed record ExternalSubjectRecord(string UserId, DateTimeOffset LinkedAt);

/// <summary>
/// The provider accounts linked to each user (one a provider), plus the reverse index from a provider's subject to
/// the user, which is what a sign-in looks up. The index row is written first and is what makes a subject one user's.
/// </summary>
internal sealed class ExternalIdentities(IEntityStore store, TimeProvider time)
{
    private readonly EntityTable<ExternalIdentityRecord> _byUser = new(store, "useridentities");
    private readonly EntityTable<ExternalSubjectRecord> _bySubject = new(store, "identitysubjects");

    public async Task<string?> FindUserIdAsync(string provider, string subject, CancellationToken cancellationToken) =>
        (await _bySubject.GetAsync(provider, Secrets.Hash(subject), cancellationToken))?.Value.UserId;

    public async Task<IReadOnlyList<ExternalIdentityRecord>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var list = new List<ExternalIdentityRecord>();
        await foreach (var row in _byUser.QueryAllAsync(new EntityQuery { PartitionKey = userId, Take = EntityQuery.MaxTake }, cancellationToken))
        {
            list.Add(row.Value);
        }

        return list;
    }

    /// <summary>Links the provider account to the user; false when it belongs to another user or the user has another account of that provider.</summary>
    public async Task<bool> LinkAsync(string userId, string provider, ExternalProfile profile, CancellationToken cancellationToken)
    {
        var existing = await _byUser.GetAsync(userId, provider, cancellationToken);
        if (existing is not null && existing.Value.Subject != profile.Subject)
        {
            return false;
        }

        var now = time.GetUtcNow();
        var subjectKey = Secrets.Hash(profile.Subject);
        if (!(await _bySubject.InsertAsync(provider, subjectKey, new ExternalSubjectRecord(userId, now), cancellationToken)).Succeeded
            && (await _bySubject.GetAsync(provider, subjectKey, cancellationToken))?.Value.UserId != userId)
        {
            return false;
        }

        await _byUser.UpsertAsync(userId, provider, new ExternalIdentityRecord(provider, profile.Subject, profile.Email, profile.EmailVerified, existing?.Value.LinkedAt ?? now), cancellationToken);
        return true;
    }

    /// <summary>Removes the user's account of that provider; answers what was removed, or null when none was linked.</summary>
    public async Task<ExternalIdentityRecord?> UnlinkAsync(string userId, string provider, CancellationToken cancellationToken)
    {
        var existing = await _byUser.FindAsync(userId, provider, cancellationToken);
        if (existing is null)
        {
            return null;
        }

        await _bySubject.DeleteAsync(provider, Secrets.Hash(existing.Value.Subject), null, cancellationToken);
        if ((await _byUser.DeleteAsync(userId, provider, existing.ETag, cancellationToken)).Succeeded)
        {
            return existing.Value;
        }

        // Changed meanwhile (a sign-in refreshed it, or another unlink took it): the account stays linked as it now is.
        if (await _byUser.FindAsync(userId, provider, cancellationToken) is { } now)
        {
            await _bySubject.UpsertAsync(provider, Secrets.Hash(now.Value.Subject), new ExternalSubjectRecord(userId, now.Value.LinkedAt), cancellationToken);
        }

        return null;
    }

    /// <summary>Puts back an account <see cref="UnlinkAsync"/> removed (index row first, as when linking).</summary>
    public async Task RestoreAsync(string userId, ExternalIdentityRecord identity, CancellationToken cancellationToken)
    {
        await _bySubject.UpsertAsync(identity.Provider, Secrets.Hash(identity.Subject), new ExternalSubjectRecord(userId, identity.LinkedAt), cancellationToken);
        await _byUser.UpsertAsync(userId, identity.Provider, identity, cancellationToken);
    }
}
