using Microsoft.Extensions.Options;

namespace Serverless.Functions.Triggers;

internal static class TriggersSetup
{
    public static IServiceCollection AddTriggers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TriggerOptions>().Bind(configuration.GetSection(TriggerOptions.Section));
        services.AddSingleton<ITriggerFunction, CleanupExpiredRecords>();
        services.AddSingleton<ITriggerFunction, SendEmail>();
        services.AddSingleton<TriggerDispatcher>();
        services.AddSingleton(sp => new FunctionManifest(sp.GetRequiredService<IOptions<TriggerOptions>>().Value.ScriptRoot ?? AppContext.BaseDirectory));
        services.AddHostedService<StandaloneTriggerHost>();
        return services;
    }

    public static IEndpointRouteBuilder MapTriggers(this IEndpointRouteBuilder app) =>
        app.ServiceProvider.GetRequiredService<TriggerDispatcher>().MapEndpoints(app);
}
