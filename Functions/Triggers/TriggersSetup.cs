using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Triggers;

internal static class TriggersSetup
{
    /// <summary>The handlers of <see cref="TriggerFunctions"/>; standalone also the trigger host that runs them.</summary>
    public static IServiceCollection AddTriggers(this IServiceCollection services, IConfiguration configuration, bool standalone)
    {
        services.AddOptions<TriggerOptions>().Bind(configuration.GetSection(TriggerOptions.Section));
        services.AddSingleton<TriggerCatalog>();
        services.AddTriggerFunctions<TriggerFunctions>();
        services.AddSingleton<CleanupExpiredRecords>();
        services.AddMetrics();
        services.AddSingleton<QueueBacklog>();
        services.AddHostedService(sp => sp.GetRequiredService<QueueBacklog>());
        if (standalone)
        {
            services.AddSingleton<QueueSignal>();
            DecorateWorkQueue(services);
            services.AddHostedService<StandaloneTriggerHost>();
        }

        return services;
    }

    /// <summary>Registers a class whose timer and queue functions the standalone trigger host runs (the Functions host finds them itself).</summary>
    public static IServiceCollection AddTriggerFunctions<T>(this IServiceCollection services) where T : class
    {
        services.AddSingleton(new TriggerFunctionClass(typeof(T)));
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
}
