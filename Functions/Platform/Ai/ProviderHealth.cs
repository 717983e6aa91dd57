using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Ai;

internal sealed record ProviderProbe(string Name, bool Ok, long LatencyMs, string? Error);

/// <summary>
/// Cheap provider probes (the provider's model list), time-boxed and remembered for a few seconds so health
/// endpoints stay fast and never turn into load on the upstreams.
/// </summary>
internal sealed class ProviderHealth(UpstreamClients clients, IOptions<ModelsOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, Task<ProviderProbe> Probe)> _recent = new(StringComparer.Ordinal);

    public Task<ProviderProbe> ProbeAsync(ProviderDefinition provider, CancellationToken cancellationToken)
    {
        var key = $"{provider.Source}|{provider.WorkspaceId}|{provider.Name}|{provider.Version}";
        var now = time.GetUtcNow();
        var fresh = TimeSpan.FromSeconds(options.Value.HealthCacheSeconds);
        if (_recent.TryGetValue(key, out var cached) && now - cached.At < fresh)
        {
            return cached.Probe.WaitAsync(cancellationToken);
        }

        // One probe at a time per provider: concurrent health calls share it.
        var probe = RunAsync(provider);
        _recent[key] = (now, probe);
        return probe.WaitAsync(cancellationToken);
    }

    private async Task<ProviderProbe> RunAsync(ProviderDefinition provider)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.Value.HealthProbeTimeoutSeconds));
        var watch = Stopwatch.StartNew();
        try
        {
            var result = await clients.For(provider).Models.GetModelsAsync(
                new RequestOptions { CancellationToken = timeout.Token, ErrorOptions = ClientErrorBehaviors.NoThrow });
            using var response = result.GetRawResponse();
            return new ProviderProbe(provider.Name, !response.IsError, watch.ElapsedMilliseconds, response.IsError ? $"HTTP {response.Status}" : null);
        }
        catch (OperationCanceledException)
        {
            return new ProviderProbe(provider.Name, false, watch.ElapsedMilliseconds, "timed out");
        }
        catch (Exception exception) when (exception is ClientResultException or HttpRequestException or IOException)
        {
            // The failure is the finding; its type says enough and carries nothing of the provider's secrets.
            return new ProviderProbe(provider.Name, false, watch.ElapsedMilliseconds, "unreachable");
        }
    }
}
