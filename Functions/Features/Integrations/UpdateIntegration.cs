using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Integrations;

internal static class UpdateIntegration
{
    /// <summary>
    /// Renames a credential, changes its fields, or rotates its secret. A new secret (or expiresAt) starts a new
    /// secret version: the status is active again and a later refusal raises credential.expired again. A new secret
    /// replaces expiresAt too (absent: it no longer expires), since the old expiry belonged to the old secret.
    /// </summary>
    public static async Task<IResult> HandleAsync(
        string id, IntegrationRequest request, WorkspaceContext workspace, IntegrationStore store, IntegrationGuard guard, CredentialExpiries expiries, TimeProvider time,
        ILogger<IntegrationStore> logger, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } existing)
        {
            return GetIntegration.NotFound();
        }

        if (IntegrationProviders.Find(existing.Provider) is not { } provider)
        {
            return Api.Conflict($"The provider '{existing.Provider}' is no longer offered; delete the credential.");
        }

        var now = time.GetUtcNow();
        var given = request.Credentials ?? [];
        var rotating = provider.SecretFields.Any(f => given.ContainsKey(f.Name));
        var stored = store.SecretsOf(workspace.WorkspaceId, existing);
        var check = new Validator()
            .When(request.Provider is not null && request.Provider != existing.Provider, "provider", "A credential's provider cannot change; store a new credential.")
            .When(request.Name is not null && string.IsNullOrWhiteSpace(request.Name), "name", "name must not be empty.")
            .MaxLength("name", request.Name, IntegrationInput.MaxNameLength)
            .When(request.ExpiresAt <= now, "expiresAt", "expiresAt must be in the future.")
            .When(stored is null && request.Credentials is not null && !provider.SecretFields.All(f => given.ContainsKey(f.Name)), "credentials",
                $"The stored secret cannot be read; give every secret field again ({string.Join(", ", provider.SecretFields.Select(f => f.Name))}).");
        var current = new Dictionary<string, string>(existing.Fields, StringComparer.Ordinal);
        foreach (var (name, value) in stored ?? new Dictionary<string, string>())
        {
            current[name] = value;
        }

        var values = IntegrationInput.Apply(check, provider, request.Credentials, current);
        IntegrationInput.CheckValues(check, provider, values);
        // Whoever may edit a credential may not read its secret: pointing it at another origin must not carry the old secret there.
        var moved = values.GetValueOrDefault(IntegrationProvider.BaseUrlField) != existing.Fields.GetValueOrDefault(IntegrationProvider.BaseUrlField);
        check.When(moved && !provider.SecretFields.All(f => given.ContainsKey(f.Name)), "credentials.baseUrl",
            $"Moving a credential to another origin needs its secret fields again ({string.Join(", ", provider.SecretFields.Select(f => f.Name))}).");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (moved && await guard.CheckBaseUrlAsync(values, cancellationToken) is { } refused)
        {
            return refused;
        }

        var (fields, secrets) = IntegrationInput.Split(provider, values);
        var sealedSecrets = rotating ? store.Seal(workspace.WorkspaceId, id, secrets) : null;
        var renewed = rotating || request.ExpiresAt is not null;
        var updated = await store.UpdateAsync(workspace.WorkspaceId, id, r => r with
        {
            Name = request.Name?.Trim() ?? r.Name,
            Fields = request.Credentials is null ? r.Fields : fields,
            SecretFields = rotating ? [.. secrets.Keys.Order(StringComparer.Ordinal)] : r.SecretFields,
            SealedSecrets = sealedSecrets ?? r.SealedSecrets,
            SecretVersion = renewed ? r.SecretVersion + 1 : r.SecretVersion,
            Status = renewed ? CredentialStatus.Active : r.Status,
            ExpiredAt = renewed ? null : r.ExpiredAt,
            ExpiredReason = renewed ? null : r.ExpiredReason,
            ExpiresAt = rotating ? request.ExpiresAt : request.ExpiresAt ?? r.ExpiresAt,
            UpdatedAt = now,
        }, cancellationToken);
        if (updated is null)
        {
            return GetIntegration.NotFound();
        }

        if (renewed)
        {
            await expiries.ScheduleAsync(workspace.WorkspaceId, updated, cancellationToken);
        }

        IntegrationsLog.Updated(logger, id, workspace.WorkspaceId, rotating);
        return Api.Ok(IntegrationDto.From(updated, now));
    }
}
