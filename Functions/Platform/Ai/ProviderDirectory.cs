using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// The providers a workspace can use, in priority order: the workspace's own first (its own choice wins), then the
/// operator's from settings, each list in its configured order.
/// </summary>
internal sealed class ProviderDirectory(IOptions<ModelsOptions> options, IEnumerable<IWorkspaceProviderSource> workspaceSources)
{
    private readonly IReadOnlyList<ProviderDefinition> _platform = [.. options.Value.Providers.Select(ProviderDefinition.FromSettings)];

    public IReadOnlyList<ProviderDefinition> Platform => _platform;

    public async Task<IReadOnlyList<ProviderDefinition>> ForWorkspaceAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var all = new List<ProviderDefinition>();
        foreach (var source in workspaceSources)
        {
            all.AddRange(await source.GetProvidersAsync(workspaceId, cancellationToken));
        }

        if (all.Count == 0)
        {
            return _platform;
        }

        all.AddRange(_platform);
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
