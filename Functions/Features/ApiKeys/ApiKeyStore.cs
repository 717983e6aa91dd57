using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.ApiKeys;

internal sealed record ApiKeyRecord(
    string Id,
    string UserId,
    string WorkspaceId,
    string Name,
    string Prefix,
    string Hash,
    IReadOnlyList<string> Scopes,
    DateTimeOffset? ExpiresAt,
    int? RateLimitPerMinute,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    IReadOnlyList<string>? AllowedModels = null,
    int? ModelRequestsPerMinute = null,
    int? ModelTokensPerMinute = null,
    decimal? MonthlyBudgetUsd = null)
{
    public ModelLimits? ModelLimits => AllowedModels is null && ModelRequestsPerMinute is null && ModelTokensPerMinute is null && MonthlyBudgetUsd is null
        ? null
        : new ModelLimits(AllowedModels, ModelRequestsPerMinute, ModelTokensPerMinute, MonthlyBudgetUsd);
}

internal sealed record ApiKeyHashRecord(string UserId, string KeyId);

/// <summary>
/// API keys: the secret is shown once and kept only as a SHA-256 hash. Keys are listed per owner, from index rows beside
/// them; the hash row finds the key on each request by two point reads, cached briefly because they sit on every
/// key-authenticated request (the index only costs the writes: create, revoke, and last use at minute resolution).
/// </summary>
internal sealed class ApiKeyStore(
    IEntityStore store, IMemoryCache cache, IMembershipLookup memberships, IUserLookup users, IOptions<AuthOptions> options, TimeProvider time, ILogger<ApiKeyStore> logger)
    : IApiKeyAuthenticator
{
    public const string SecretPrefix = "sfk_";

    /// <summary>
    /// The owner's keys by the orders the list offers; narrowed by workspace, because a key lists only the keys of the
    /// workspace it is bound to.
    /// </summary>
    public static readonly ListIndex<ApiKeyRecord> Index = new(
        version: 1,
        k => k.Id,
        new Dictionary<string, Func<ApiKeyRecord, string>>
        {
            ["createdAt"] = k => k.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = k => k.Name.ToLowerInvariant(),
            ["lastUsedAt"] = k => k.LastUsedAt?.UtcDateTime.ToString("O") ?? "",
        },
        new Dictionary<string, Func<ApiKeyRecord, string?>> { ["workspace"] = k => k.WorkspaceId });

    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private readonly IndexedTable<ApiKeyRecord> _keys = new(store, "apikeys", Index, EntityTable<ApiKeyRecord>.Json);
    private readonly EntityTable<ApiKeyHashRecord> _hashes = new(store, "apikeyhashes");
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastUsedWritten = new(StringComparer.Ordinal);

    public async Task<(ApiKeyRecord Record, string Secret)> CreateAsync(
        string userId, string workspaceId, string name, IReadOnlyList<string> scopes, DateTimeOffset? expiresAt, int? rateLimitPerMinute,
        ModelLimits? modelLimits, CancellationToken cancellationToken)
    {
        var secret = SecretPrefix + Secrets.NewToken();
        var record = new ApiKeyRecord(Secrets.NewId("key"), userId, workspaceId, name, secret[..12], Secrets.Hash(secret), scopes,
            expiresAt, rateLimitPerMinute, time.GetUtcNow(), null,
            modelLimits?.AllowedModels, modelLimits?.RequestsPerMinute, modelLimits?.TokensPerMinute, modelLimits?.MonthlyBudgetUsd);
        await _keys.InsertAsync(userId, record, cancellationToken);
        await _hashes.InsertAsync(record.Hash, "k", new ApiKeyHashRecord(userId, record.Id), cancellationToken);
        ApiKeysLog.Created(logger, record.Id, record.Prefix, userId, workspaceId);
        return (record, secret);
    }

    public IndexedList<ApiKeyRecord> List => new(_keys, "createdAt", DefaultDescending: true,
        Matches: (k, s) => k.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || k.Prefix.Contains(s, StringComparison.Ordinal));

    public async Task<ApiKeyRecord?> GetAsync(string userId, string keyId, CancellationToken cancellationToken) =>
        (await _keys.GetAsync(userId, keyId, cancellationToken))?.Value;

    public async Task<bool> DeleteAsync(string userId, string keyId, CancellationToken cancellationToken)
    {
        var record = await GetAsync(userId, keyId, cancellationToken);
        if (record is null)
        {
            return false;
        }

        // The hash row goes first: once it is gone the key authenticates nowhere, whatever happens next.
        await _hashes.DeleteAsync(record.Hash, "k", null, cancellationToken);
        await _keys.DeleteAsync(userId, keyId, null, cancellationToken);
        cache.Remove(CacheKey(record.Hash));
        ApiKeysLog.Revoked(logger, keyId, userId);
        return true;
    }

    public bool LooksLikeApiKey(string credential) => credential.StartsWith(SecretPrefix, StringComparison.Ordinal);

    public async ValueTask<Caller?> AuthenticateAsync(string secret, CancellationToken cancellationToken)
    {
        if (secret.Length > 200)
        {
            return null;
        }

        var hash = Secrets.Hash(secret);
        var record = await FindAsync(hash, cancellationToken);
        var now = time.GetUtcNow();
        if (record is null || record.ExpiresAt <= now)
        {
            return null;
        }

        // A key dies with its owner's membership of the workspace it is bound to.
        var role = await memberships.GetRoleAsync(record.WorkspaceId, record.UserId, cancellationToken);
        if (role is null)
        {
            return null;
        }

        await TouchAsync(record, now, cancellationToken);
        // A key holding every scope may do whatever its owner's session may, platform administration included;
        // a narrower key never administers the platform, whoever owns it.
        var holdsEveryScope = Scopes.Names.All(record.Scopes.Contains);
        var platformAdmin = holdsEveryScope && await IsPlatformAdminAsync(record.UserId, cancellationToken);
        return new Caller(record.UserId, record.WorkspaceId, platformAdmin, record.Id, record.WorkspaceId,
            record.Scopes.ToHashSet(StringComparer.Ordinal), record.RateLimitPerMinute)
        {
            ModelLimits = record.ModelLimits,
        };
    }

    // Cached like the key itself: keys holding every scope are common, and authentication stays free of store reads.
    private async ValueTask<bool> IsPlatformAdminAsync(string userId, CancellationToken cancellationToken)
    {
        var key = "apikey-owner-admin:" + userId;
        if (cache.TryGetValue(key, out bool admin))
        {
            return admin;
        }

        admin = (await users.FindByIdAsync(userId, cancellationToken))?.IsPlatformAdmin == true;
        if (options.Value.ApiKeyCacheSeconds > 0)
        {
            cache.Set(key, admin, TimeSpan.FromSeconds(options.Value.ApiKeyCacheSeconds));
        }

        return admin;
    }

    private async Task<ApiKeyRecord?> FindAsync(string hash, CancellationToken cancellationToken)
    {
        var key = CacheKey(hash);
        if (cache.TryGetValue(key, out ApiKeyRecord? cached))
        {
            return cached;
        }

        var pointer = await _hashes.GetAsync(hash, "k", cancellationToken);
        var record = pointer is null ? null : (await _keys.GetAsync(pointer.Value.UserId, pointer.Value.KeyId, cancellationToken))?.Value;
        if (options.Value.ApiKeyCacheSeconds > 0)
        {
            cache.Set(key, record, TimeSpan.FromSeconds(options.Value.ApiKeyCacheSeconds));
        }

        return record;
    }

    /// <summary>Records last use at minute resolution, so a busy key does not turn every read into a write.</summary>
    private async Task TouchAsync(ApiKeyRecord record, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var last = _lastUsedWritten.GetValueOrDefault(record.Id, record.LastUsedAt ?? DateTimeOffset.MinValue);
        if (now - last < LastUsedResolution || !_lastUsedWritten.TryUpdate(record.Id, now, last) && !_lastUsedWritten.TryAdd(record.Id, now))
        {
            return;
        }

        await _keys.UpdateAsync(record.UserId, record.Id, k => k with { LastUsedAt = now }, cancellationToken);
    }

    private static string CacheKey(string hash) => "apikey:" + hash;
}
