namespace Serverless.Functions.Platform.Analytics;

internal static class AnalyticsSetup
{
    /// <summary>The roll-ups every feature that counts something writes to (model calls, runs) and analytics reads.</summary>
    public static IServiceCollection AddAnalyticsRollups(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AnalyticsRollups>();
        services.AddHostedService(sp => sp.GetRequiredService<AnalyticsRollups>());
        services.AddSingleton<AnalyticsRecorder>();
        return services;
    }
}
