using System.Globalization;
using Serverless.Functions.Platform.Scheduling;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Integrations;

/// <summary>
/// Credentials come due at their <c>expiresAt</c>: a timer marks each expired and raises <c>credential.expired</c> when
/// the time passes, so the owners hear of it before a run fails on it (a use past the expiry does the same, whichever
/// comes first; the event is recorded once per secret version either way).
/// </summary>
internal sealed class CredentialExpiries(IEntityStore store, IntegrationStore integrations, CredentialResolver resolver, TimeProvider time)
{
    /// <summary>At most this many credentials a sweep handles; the next sweep takes the rest.</summary>
    public const int MaxPerSweep = 500;

    internal sealed record Due(string WorkspaceId, string CredentialId, int SecretVersion);

    private readonly DueIndex<Due> _due = new(store, "integrationexpiries");

    /// <summary>Indexes the credential's expiry, if it has one. A row of an older secret version is dropped by the sweep.</summary>
    public Task ScheduleAsync(string workspaceId, IntegrationRecord integration, CancellationToken cancellationToken) =>
        integration.ExpiresAt is { } expiresAt
            ? _due.AddAsync(expiresAt, Key(workspaceId, integration.Id, integration.SecretVersion), new Due(workspaceId, integration.Id, integration.SecretVersion), cancellationToken)
            : Task.CompletedTask;

    /// <summary>Marks every credential whose expiry has passed expired; answers how many it marked.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var marked = 0;
        var now = time.GetUtcNow();
        foreach (var (dueAt, due) in await _due.UpToAsync(now, MaxPerSweep, cancellationToken))
        {
            // The record is the truth: a rotated secret, a new expiry or a deleted credential leaves this row stale.
            if (await integrations.GetAsync(due.WorkspaceId, due.CredentialId, cancellationToken) is { } integration
                && integration.SecretVersion == due.SecretVersion && integration.ExpiresAt is { } expiresAt && expiresAt <= now
                && integration.Status == CredentialStatus.Active)
            {
                var when = expiresAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
                await resolver.MarkExpiredAsync(due.WorkspaceId, integration, $"Its expiry ({when}) has passed.", null, cancellationToken);
                marked++;
            }

            await _due.DropAsync(dueAt, Key(due.WorkspaceId, due.CredentialId, due.SecretVersion), cancellationToken);
        }

        return marked;
    }

    private static string Key(string workspaceId, string credentialId, int secretVersion) => $"{workspaceId}_{credentialId}_{secretVersion}";
}
