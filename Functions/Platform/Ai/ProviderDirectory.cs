using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// The providers a workspace can use, in priority order: the workspace's own first (its own choice wins), then the
/// operator's from settings, each list in its configured order.
/// </summary>
internal sealed class ProviderDirectory(IOptions<ModelsOptions> options, ProviderDiscovery discovery, IEnumerable<IWorkspaceProviderSource> workspaceSources)
{
    private readonly IReadOnlyList<ProviderDefinition> _configured = [.. options.Value.Providers.Select(ProviderDefinition.FromSettings)];

    /// <summary>The operator's providers: those configured, or else those found on this machine (see <see cref="ProviderDiscovery"/>).</summary>
    public IReadOnlyList<ProviderDefinition> Platform => _configured.Count > 0 ? _configured : discovery.Found;

    public async Task<IReadOnlyList<ProviderDefinition>> ForWorkspaceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var all = new List<ProviderDefinition>();
        foreach (var source in workspaceSources)
        {
            all.AddRange(await source.GetProvidersAsync(workspaceId, cancellationToken));
        }

        var platform = Platform;
        if (all.Count == 0)
        {
            return platform;
        }

        all.AddRange(platform);
        return all;
    }

    /// <summary>The providers serving <paramref name="modelId"/> for this kind of call, in the order to try them.</summary>
    public async Task<IReadOnlyList<(ProviderDefinition Provider, ProviderModel Model)>> CandidatesAsync(
        string workspaceId, string modelId, bool embedding, CancellationToken cancellationToken)
    {
        var providers = await ForWorkspaceAsync(workspaceId, cancellationToken);
        var candidates = new List<(ProviderDefinition, ProviderModel)>();
        foreach (var provider in providers)
        {
            if (provider.Find(modelId) is { } model && model.Embedding == embedding)
            {
                candidates.Add((provider, model));
            }
        }

        return candidates;
    }
}
