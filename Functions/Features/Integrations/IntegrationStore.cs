using System.Text.Json;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Integrations;

internal static class CredentialStatus
{
    public const string Active = "active";
    public const string Expired = "expired";

    public static readonly IReadOnlyList<string> All = [Active, Expired];
}

/// <param name="Fields">The credential's non-secret values (baseUrl, headerName, a user name …), shown in lists.</param>
/// <param name="SecretFields">The names of the secret values held sealed in <paramref name="SealedSecrets"/>.</param>
/// <param name="SealedSecrets">The secret values as one JSON object, sealed by <see cref="SecretProtector"/> (purpose bound to the workspace and id).</param>
/// <param name="SecretVersion">Counts the secrets stored: a refusal of an older secret does not mark a newer one, and
/// <c>credential.expired</c> is recorded once per version.</param>
/// <param name="Status">active or expired (refused with 401/403, or found past <paramref name="ExpiresAt"/>), until the credential is updated.</param>
internal sealed record IntegrationRecord(
    string Id,
    string Provider,
    string Name,
    IReadOnlyDictionary<string, string> Fields,
    IReadOnlyList<string> SecretFields,
    string SealedSecrets,
    int SecretVersion,
    string Status,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? ExpiredAt,
    string? ExpiredReason,
    DateTimeOffset? LastTestedAt,
    bool? LastTestOk,
    int? LastTestStatus,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Expired when recorded so, or when its expiry has passed although nobody has used it since.</summary>
    public string StatusAt(DateTimeOffset now) => ExpiresAt <= now ? CredentialStatus.Expired : Status;
}

/// <summary>
/// A workspace's stored credentials (at most <see cref="MaxPerWorkspace"/>, so listed in memory) in its partition. The
/// secret values are sealed together; only the credential resolver and the test request unseal them.
/// </summary>
internal sealed class IntegrationStore(IEntityStore store, SecretProtector protector)
    : PartitionRecords<IntegrationRecord>(store, "integrations", i => i.Id)
{
    public const int MaxPerWorkspace = 100;

    public string Seal(string workspaceId, string id, IReadOnlyDictionary<string, string> secrets) =>
        protector.Protect(JsonSerializer.Serialize(secrets), Purpose(workspaceId, id));

    /// <summary>The secret values, or null when they cannot be unsealed (the platform's key changed, or the row was tampered with).</summary>
    public IReadOnlyDictionary<string, string>? SecretsOf(string workspaceId, IntegrationRecord integration) =>
        protector.Unprotect(integration.SealedSecrets, Purpose(workspaceId, integration.Id)) is { } json
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(json)
            : null;

    private static string Purpose(string workspaceId, string id) => $"integration-credential:{workspaceId}:{id}";
}
