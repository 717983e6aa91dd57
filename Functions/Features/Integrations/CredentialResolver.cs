using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Integrations;

/// <summary>
/// Hands stored credentials to nodes, plugins and the test request by reference: only within the credential's own
/// workspace, only for a host it is bound to (a refusal is logged), never past its expiry. A refusal by the upstream
/// (401/403), or an expiry found on use, marks the credential expired and records <c>credential.expired</c> once per
/// stored secret.
/// </summary>
internal sealed class CredentialResolver(IntegrationStore store, CredentialAlarms alarms, TimeProvider time, ILogger<CredentialResolver> logger)
    : ICredentialResolver
{
    public async Task<ResolvedCredential> ResolveAsync(string workspaceId, string credentialId, Uri target, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspaceId, credentialId, cancellationToken) is not { } integration
            || IntegrationProviders.Find(integration.Provider) is not { } provider)
        {
            return ResolvedCredential.Refused(workspaceId, credentialId, CredentialRefusals.NotFound,
                $"The credential {credentialId} does not exist in this workspace (it may have been deleted).");
        }

        if (!provider.Allows(integration.Fields, target))
        {
            IntegrationsLog.HostRefused(logger, credentialId, workspaceId, target.IdnHost);
            return ResolvedCredential.Refused(workspaceId, credentialId, CredentialRefusals.HostNotAllowed,
                $"The credential {credentialId} may only be sent to {string.Join(", ", provider.BoundTo(integration.Fields))}{(provider.IsGeneric ? "" : " over https")}; "
                + $"it was not attached to a request for {target.GetLeftPart(UriPartial.Authority)}.");
        }

        if (integration.ExpiresAt is { } expiresAt && expiresAt <= time.GetUtcNow())
        {
            var when = expiresAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
            await MarkExpiredAsync(workspaceId, integration, $"Its expiry ({when}) has passed.", null, cancellationToken);
            return ResolvedCredential.Refused(workspaceId, credentialId, CredentialRefusals.Expired,
                $"The credential {credentialId} expired at {when}; store a new secret with PUT /api/v1/integrations/{credentialId}.");
        }

        if (store.SecretsOf(workspaceId, integration) is not { } secrets)
        {
            IntegrationsLog.Unreadable(logger, credentialId, workspaceId);
            return ResolvedCredential.Refused(workspaceId, credentialId, CredentialRefusals.Unreadable,
                $"The credential {credentialId} cannot be read; store its secret again with PUT /api/v1/integrations/{credentialId}.");
        }

        var values = new Dictionary<string, string>(integration.Fields, StringComparer.Ordinal);
        foreach (var (name, value) in secrets)
        {
            values[name] = value;
        }

        List<KeyValuePair<string, string>> headers = [], defaults = [], query = [];
        var sent = new List<string>(secrets.Values);
        foreach (var fill in provider.Fills)
        {
            if (IntegrationProviders.Render(fill.Name, values) is not { } name || IntegrationProviders.Render(fill.Value, values) is not { } value)
            {
                continue;
            }

            // An encoded secret (HTTP Basic) is as secret as the secret: scrubbed whole and on its own.
            var encoded = IntegrationProviders.Placeholders(fill.Value).Where(p => p.StartsWith("{base64:", StringComparison.Ordinal))
                .Select(p => IntegrationProviders.Render(p, values)!).ToList();
            var carriesSecret = encoded.Count > 0 || secrets.Values.Any(s => s.Length > 0 && value.Contains(s, StringComparison.Ordinal));
            if (carriesSecret)
            {
                sent.Add(value);
                sent.AddRange(encoded);
            }

            (fill.In == CredentialFill.QueryParameter ? query : carriesSecret ? headers : defaults).Add(KeyValuePair.Create(name, value));
        }

        return ResolvedCredential.Usable(workspaceId, credentialId, provider.Id, integration.SecretVersion.ToString(CultureInfo.InvariantCulture), target,
            headers, defaults, query, sent);
    }

    public async Task ReportRejectedAsync(ResolvedCredential credential, int statusCode, CancellationToken cancellationToken)
    {
        if (!CredentialRefusals.IsRejection(statusCode) || credential.Refusal is not null)
        {
            return;
        }

        try
        {
            // A secret stored since the request went out is not the one that was refused.
            if (await store.GetAsync(credential.WorkspaceId, credential.CredentialId, cancellationToken) is { } integration
                && integration.SecretVersion.ToString(CultureInfo.InvariantCulture) == credential.Version)
            {
                await MarkExpiredAsync(credential.WorkspaceId, integration, $"The upstream refused it with {statusCode}.", statusCode, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            IntegrationsLog.ExpiryAlarmFailed(logger, exception, credential.CredentialId);
        }
    }

    /// <summary>
    /// Marks <paramref name="integration"/>'s current secret expired and records <c>credential.expired</c> for it: the
    /// event first (its id names the secret's version, so recording it again keeps one), then the status, so a crash in
    /// between records again rather than never. Nothing happens while the status already says expired.
    /// </summary>
    public async Task MarkExpiredAsync(string workspaceId, IntegrationRecord integration, string reason, int? statusCode, CancellationToken cancellationToken)
    {
        if (integration.Status == CredentialStatus.Expired)
        {
            return;
        }

        var payload = new JsonObject
        {
            ["kind"] = "integration",
            ["credentialId"] = integration.Id,
            ["provider"] = integration.Provider,
            ["name"] = integration.Name,
            ["status"] = statusCode,
            ["reason"] = $"The credential '{integration.Name}' ({integration.Provider}) stopped working. {reason}",
        };
        await alarms.RecordAsync(workspaceId, $"integration:{integration.Id}:{integration.SecretVersion}", payload, cancellationToken);

        var now = time.GetUtcNow();
        await store.UpdateAsync(workspaceId, integration.Id, current => current.SecretVersion == integration.SecretVersion && current.Status != CredentialStatus.Expired
            ? current with { Status = CredentialStatus.Expired, ExpiredAt = now, ExpiredReason = reason }
            : null, cancellationToken);
        IntegrationsLog.Expired(logger, integration.Id, workspaceId, reason);
    }
}
