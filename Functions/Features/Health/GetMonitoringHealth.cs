using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Health;

internal static class GetMonitoringHealth
{
    internal sealed record Response(string Status, string Version, long UptimeSeconds, IReadOnlyList<ComponentHealth> Components);

    public static async Task<IResult> HandleAsync(IEnumerable<IHealthProbe> probes, CancellationToken cancellationToken)
    {
        var components = await Task.WhenAll(probes.Select(p => HealthStatus.CheckAsync(p, cancellationToken)));
        var overall = HealthStatus.Overall(components);
        var response = new Response(overall, ApiVersion.Current, Uptime.Seconds, components);
        return overall == HealthStatus.Unhealthy ? new ApiResult<Response>(503, response) : Api.Ok(response);
    }
}
