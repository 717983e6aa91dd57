using Serverless.Functions.Features.Health;
using Serverless.Functions.Platform.Ai;

namespace Serverless.Functions.Features.Providers;

/// <summary>
/// One monitoring component per operator provider. Not critical: a model provider being down degrades the
/// platform, it does not make the platform itself unhealthy (which would take an instance out of rotation).
/// </summary>
internal sealed class ProviderHealthProbe(ProviderDefinition provider, ProviderHealth health) : IHealthProbe
{
    public string Name => "provider:" + provider.Name;

    public bool IsCritical => false;

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var probe = await health.ProbeAsync(provider, cancellationToken);
        if (!probe.Ok)
        {
            throw new ProviderUnavailableException();
        }
    }
}

/// <summary>
/// Without configured providers, the ones found on this machine: each health check looks again (at most every few
/// seconds), so an Ollama started after the app is picked up; none found degrades the platform.
/// </summary>
internal sealed class DiscoveredProvidersProbe(ProviderDiscovery discovery, ProviderHealth health) : IHealthProbe
{
    public string Name => "providers:discovered";

    public bool IsCritical => false;

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await discovery.RefreshAsync(cancellationToken);
        var probes = await Task.WhenAll(discovery.Found.Select(p => health.ProbeAsync(p, cancellationToken)));
        if (!probes.Any(p => p.Ok))
        {
            throw new ProviderUnavailableException();
        }
    }
}

internal sealed class ProviderUnavailableException : Exception;
