using Microsoft.Extensions.Options;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Triggers;

internal static class TriggersSetup
{
    public static IServiceCollection AddTriggers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TriggerOptions>().Bind(configuration.GetSection(TriggerOptions.Section));
        services.AddSingleton<QueueSignal>();
        DecorateWorkQueue(services);
        services.AddSingleton<ITriggerFunction, CleanupExpiredRecords>();
        services.AddSingleton<ITriggerFunction, SendEmail>();
        services.AddSingleton<ITriggerFunction, RunWorkflowStep>();
        services.AddSingleton<ITriggerFunction, WorkflowWatchdog>();
        services.AddSingleton<TriggerDispatcher>();
        services.AddSingleton(sp => new FunctionManifest(sp.GetRequiredService<IOptions<TriggerOptions>>().Value.ScriptRoot ?? AppContext.BaseDirectory));
        services.AddHostedService<StandaloneTriggerHost>();
        return services;
    }

    /// <summary>Wraps whichever work-queue adapter storage registered, so enqueues wake this process's pumps.</summary>
    private static void DecorateWorkQueue(IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IWorkQueue));
        services.Remove(registered);
        services.AddSingleton<IWorkQueue>(sp => new SignalingWorkQueue(
            registered.ImplementationType is { } type ? (IWorkQueue)ActivatorUtilities.CreateInstance(sp, type)
                : registered.ImplementationFactory is { } factory ? (IWorkQueue)factory(sp)
                : (IWorkQueue)registered.ImplementationInstance!,
            sp.GetRequiredService<QueueSignal>()));
    }

    public static IEndpointRouteBuilder MapTriggers(this IEndpointRouteBuilder app) =>
        app.ServiceProvider.GetRequiredService<TriggerDispatcher>().MapEndpoints(app);
}
