using System.Globalization;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Providers;

internal sealed record ProviderModelRecord(string Id, string? UpstreamModel, decimal InputPricePer1K, decimal OutputPricePer1K, bool Embedding);

internal sealed record ProviderRecord(
    string Id,
    string Name,
    string Kind,
    string BaseUrl,
    string? SealedApiKey,
    IReadOnlyList<ProviderModelRecord> Models,
    int Priority,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// A workspace's own providers, one row each in the workspace's partition beside the index rows that list them. The
/// API key is sealed with the platform's <see cref="SecretProtector"/> (bound to the workspace and provider id) and
/// never leaves in a response. The gateway reads every provider in priority order (one range scan of that order's
/// rows), cached briefly and dropped on every change made here.
/// </summary>
internal sealed class ProviderStore(
    IEntityStore store, SecretProtector protector, IMemoryCache cache, UpstreamClients clients, IOptions<ModelsOptions> options, TimeProvider time,
    ILogger<ProviderStore> logger) : IWorkspaceProviderSource
{
    public const string PriorityOrder = "priority";

    /// <summary>
    /// The list's orders and its kind filter; the name filter finds a name's holder for the uniqueness check without
    /// reading the workspace's other providers.
    /// </summary>
    public static readonly ListIndex<ProviderRecord> Index = new(
        version: 1,
        p => p.Id,
        new Dictionary<string, Func<ProviderRecord, string>>
        {
            // Ties in priority go to the older provider: the gateway tries them in this order.
            [PriorityOrder] = p => p.Priority.ToString("D4", CultureInfo.InvariantCulture) + p.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = p => p.Name,
            ["createdAt"] = p => p.CreatedAt.UtcDateTime.ToString("O"),
        },
        new Dictionary<string, Func<ProviderRecord, string?>>
        {
            ["kind"] = p => p.Kind,
            ["name"] = p => p.Name,
        });

    private readonly IndexedTable<ProviderRecord> _providers = new(store, "providers", Index, EntityTable<ProviderRecord>.Json);

    public IndexedList<ProviderRecord> List => new(_providers, PriorityOrder, DefaultDescending: false,
        Matches: (p, s) => p.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || p.Models.Any(m => m.Id.Contains(s, StringComparison.OrdinalIgnoreCase)),
        StatusFilter: "kind");

    /// <summary>Every provider of the workspace in the order the gateway tries them.</summary>
    public async Task<List<ProviderRecord>> ListAllAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var all = new List<ProviderRecord>();
        var query = new IndexQuery<ProviderRecord> { Order = PriorityOrder, Limit = EntityQuery.MaxTake };
        while (true)
        {
            var page = await _providers.ListAsync(workspaceId, query, cancellationToken);
            all.AddRange(page.Items);
            if (page.Next is null)
            {
                return all;
            }

            query = query with { After = page.Next };
        }
    }

    /// <summary>True when another provider of the workspace (not <paramref name="exceptId"/>) has <paramref name="name"/>.</summary>
    public async Task<bool> NameTakenAsync(string workspaceId, string name, string? exceptId, CancellationToken cancellationToken)
    {
        var holders = await _providers.ListAsync(workspaceId, new IndexQuery<ProviderRecord> { Order = PriorityOrder, Filter = ("name", name), Limit = 2 }, cancellationToken);
        return holders.Items.Any(p => p.Id != exceptId);
    }

    public async Task<ProviderRecord?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        (await _providers.GetAsync(workspaceId, id, cancellationToken))?.Value;

    public async Task<ProviderRecord> CreateAsync(string workspaceId, ProviderRecord draft, string? apiKey, CancellationToken cancellationToken)
    {
        var record = draft with { SealedApiKey = Seal(workspaceId, draft.Id, apiKey) };
        await _providers.InsertAsync(workspaceId, record, cancellationToken);
        Changed(workspaceId, record.Name);
        ProvidersLog.Created(logger, record.Id, record.Name, workspaceId);
        return record;
    }

    /// <summary>Applies <paramref name="change"/>; <paramref name="apiKey"/> null keeps the key, empty removes it.</summary>
    public async Task<ProviderRecord?> UpdateAsync(string workspaceId, string id, Func<ProviderRecord, ProviderRecord> change, string? apiKey, CancellationToken cancellationToken)
    {
        string? oldName = null;
        var updated = await _providers.UpdateAsync(workspaceId, id, current =>
        {
            oldName = current.Name;
            var next = change(current) with { UpdatedAt = time.GetUtcNow() };
            return apiKey is null ? next : next with { SealedApiKey = Seal(workspaceId, id, apiKey) };
        }, cancellationToken);
        if (updated is null)
        {
            return null;
        }

        Changed(workspaceId, oldName!);
        Changed(workspaceId, updated.Value.Name);
        ProvidersLog.Updated(logger, id, workspaceId);
        return updated.Value;
    }

    public async Task<bool> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken)
    {
        var existing = await GetAsync(workspaceId, id, cancellationToken);
        if (existing is null || !(await _providers.DeleteAsync(workspaceId, id, null, cancellationToken)).Succeeded)
        {
            return false;
        }

        Changed(workspaceId, existing.Name);
        ProvidersLog.Deleted(logger, id, workspaceId);
        return true;
    }

    public async Task<IReadOnlyList<ProviderDefinition>> GetProvidersAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var key = CacheKey(workspaceId);
        if (cache.TryGetValue(key, out IReadOnlyList<ProviderDefinition>? cached) && cached is not null)
        {
            return cached;
        }

        var definitions = (await ListAllAsync(workspaceId, cancellationToken)).Select(p => ToDefinition(workspaceId, p)).ToList();
        if (options.Value.WorkspaceProviderCacheSeconds > 0)
        {
            cache.Set(key, (IReadOnlyList<ProviderDefinition>)definitions, TimeSpan.FromSeconds(options.Value.WorkspaceProviderCacheSeconds));
        }

        return definitions;
    }

    private ProviderDefinition ToDefinition(string workspaceId, ProviderRecord p)
    {
        var apiKey = p.SealedApiKey is null ? null : protector.Unprotect(p.SealedApiKey, Purpose(workspaceId, p.Id));
        if (p.SealedApiKey is not null && apiKey is null)
        {
            // Sealed under another key (the protection key changed): the provider is listed but calls go out without its key.
            ProvidersLog.KeyUnreadable(logger, p.Id, workspaceId);
        }

        return new ProviderDefinition(p.Name, p.Kind, new Uri(p.BaseUrl), apiKey,
            [.. p.Models.Select(m => new ProviderModel(m.Id, string.IsNullOrWhiteSpace(m.UpstreamModel) ? m.Id : m.UpstreamModel, m.InputPricePer1K, m.OutputPricePer1K, m.Embedding))],
            ProviderSource.Workspace, workspaceId, p.UpdatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture));
    }

    private string? Seal(string workspaceId, string id, string? apiKey) =>
        string.IsNullOrEmpty(apiKey) ? null : protector.Protect(apiKey, Purpose(workspaceId, id));

    private static string Purpose(string workspaceId, string id) => $"provider-api-key\n{workspaceId}\n{id}";

    private void Changed(string workspaceId, string name)
    {
        cache.Remove(CacheKey(workspaceId));
        clients.Forget(workspaceId, name);
    }

    private static string CacheKey(string workspaceId) => "providers:" + workspaceId;
}
