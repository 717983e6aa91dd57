using System.Diagnostics;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Health;

/// <summary>A component the monitoring health endpoint reports on; later features register their own.</summary>
internal interface IHealthProbe
{
    string Name { get; }

    /// <summary>A failing non-critical component (an external model provider) degrades the platform instead of making it unhealthy.</summary>
    bool IsCritical => true;

    Task ProbeAsync(CancellationToken cancellationToken);
}

internal sealed class EntityStoreProbe(IEntityStore store) : IHealthProbe
{
    public string Name => "entity-store";

    public Task ProbeAsync(CancellationToken cancellationToken) => store.PingAsync(cancellationToken);
}

internal sealed class WorkQueueProbe(IWorkQueue queue) : IHealthProbe
{
    public string Name => "work-queue";

    public Task ProbeAsync(CancellationToken cancellationToken) => queue.GetApproximateCountAsync("health-probe", cancellationToken);
}

internal sealed class BlobStoreProbe(IBlobStore blobs) : IHealthProbe
{
    public string Name => "blob-store";

    public Task ProbeAsync(CancellationToken cancellationToken) => blobs.GetInfoAsync("health-probe", "probe", cancellationToken);
}

internal sealed record ComponentHealth(string Name, string Status, long LatencyMs, string? Message);

internal static class HealthStatus
{
    public const string Healthy = "HEALTHY";
    public const string Degraded = "DEGRADED";
    public const string Unhealthy = "UNHEALTHY";

    private static readonly TimeSpan SlowAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(5);

    public static async Task<ComponentHealth> CheckAsync(IHealthProbe probe, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(GiveUpAfter);
        var watch = Stopwatch.StartNew();
        try
        {
            await probe.ProbeAsync(timeout.Token);
            var latency = watch.Elapsed;
            return new ComponentHealth(probe.Name, latency > SlowAfter ? Degraded : Healthy, (long)latency.TotalMilliseconds, latency > SlowAfter ? "slow" : null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ComponentHealth(probe.Name, probe.IsCritical ? Unhealthy : Degraded, (long)watch.Elapsed.TotalMilliseconds, "timed out");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The probe's failure is the finding: report it by type, never with the exception's text.
            return new ComponentHealth(probe.Name, probe.IsCritical ? Unhealthy : Degraded, (long)watch.Elapsed.TotalMilliseconds, exception.GetType().Name);
        }
    }

    public static string Overall(IEnumerable<ComponentHealth> components)
    {
        var statuses = components.Select(c => c.Status).ToList();
        return statuses.Contains(Unhealthy) ? Unhealthy : statuses.Contains(Degraded) ? Degraded : Healthy;
    }
}
