using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Platform.Durable;

internal static class DurableSetup
{
    /// <summary>
    /// The Durable Task host of workflow runs: standalone, the Durable Task Framework in this process; in worker mode,
    /// Durable Functions (the orchestrator and activity functions in <c>WorkflowRunFunctions</c>).
    /// </summary>
    public static IServiceCollection AddDurableRuns(this IServiceCollection services, IConfiguration configuration, bool standalone)
    {
        // The Durable Task Framework and SDK log every episode and activity at Information: several lines a run, which
        // cost more than the run itself. Their warnings and errors still show; configuration can lower the bar again.
        services.AddLogging(logging => logging.AddFilter("DurableTask", LogLevel.Warning).AddFilter("Microsoft.DurableTask", LogLevel.Warning));
        // The orchestrator and activities keep no state of their own (a run's lives in its orchestration), so one of
        // each serves every episode and invocation in both hosts.
        services.AddSingleton<WorkflowOrchestrator>();
        foreach (var (_, type) in RunActivityTypes.All)
        {
            services.AddSingleton(type);
        }

        services.AddOptions<DurableOptions>().Bind(configuration.GetSection(DurableOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        if (standalone)
        {
            services.AddSingleton<StandaloneDurableHost>();
            services.AddSingleton<IRunOrchestrations>(sp => sp.GetRequiredService<StandaloneDurableHost>());
            services.AddHostedService(sp => sp.GetRequiredService<StandaloneDurableHost>());
        }
        else
        {
            services.AddSingleton<IRunOrchestrations, FunctionsRunOrchestrations>();
        }

        return services;
    }
}

/// <summary>The workflow activities by name, for both hosts' registrations.</summary>
internal static class RunActivityTypes
{
    public static readonly IReadOnlyList<(string Name, Type Type)> All =
    [
        (RunTasks.AdmitRun, typeof(AdmitRunActivity)),
        (RunTasks.RunNode, typeof(RunNodeActivity)),
        (RunTasks.SaveRun, typeof(SaveRunActivity)),
        (RunTasks.CreateChildRuns, typeof(CreateChildRunsActivity)),
        (RunTasks.EndRun, typeof(EndRunActivity)),
    ];
}
