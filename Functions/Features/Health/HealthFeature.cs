using Serverless.Functions.Platform.Http;
using Serverless.Functions.Hosting;

namespace Serverless.Functions.Features.Health;

internal static class HealthFeature
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddSingleton<IHealthProbe, EntityStoreProbe>();
        services.AddSingleton<IHealthProbe, WorkQueueProbe>();
        services.AddSingleton<IHealthProbe, BlobStoreProbe>();
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        // A liveness answer at the standalone server's root; not a public API, so it gets no HTTP function.
        app.MapGet("/", () => Results.Text("OK")).WithName("Liveness").WithTags("Health").AllowAnonymous()
            .WithMetadata(new NotAFunction()).ExcludeFromDescription();
        app.MapGet("/health", GetHealth.Handle).WithName("GetHealth").WithTags("Health").AllowAnonymous()
            .WithSummary("Process health for probes: status, version, uptime").Produces<GetHealth.Response>();
        app.MapGet("/api/v1/monitoring/health", GetMonitoringHealth.HandleAsync).WithName("GetMonitoringHealth").WithTags("Monitoring")
            .AllowAnonymous().WithSummary("Overall HEALTHY|DEGRADED|UNHEALTHY and each component's status and latency")
            .Returns<GetMonitoringHealth.Response>().Returns<GetMonitoringHealth.Response>(503);
        return app;
    }
}
