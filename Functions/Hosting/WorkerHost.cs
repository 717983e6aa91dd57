using System.Runtime.CompilerServices;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Serverless.Functions.Platform.Storage;
using Serverless.Functions.Platform.Telemetry;

namespace Serverless.Functions.Hosting;

/// <summary>
/// Worker mode: the process the Functions host starts. A .NET isolated worker with ASP.NET Core integration, the
/// platform's services, the HTTP functions (<see cref="HttpFunctions"/>) and the timer and queue functions
/// (<see cref="Triggers.TriggerFunctions"/>). Kept out of <c>Program</c>'s own code so that standalone start-up never
/// loads the worker's assemblies.
/// </summary>
internal static class WorkerHost
{
    /// <summary>The worker's builder with everything the platform adds (tests build it without a host to talk to).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static FunctionsApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.AddPlatform(standalone: false);
        builder.Services.AddSingleton<FunctionRequests>();
        // host.json's telemetryMode makes the Functions host export the same way, so the host's and the worker's spans correlate.
        builder.AddPlatformTelemetry(telemetry => telemetry.UseFunctionsWorkerDefaults());
        return builder;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(string[] args)
    {
        using var host = CreateBuilder(args).Build();
        host.Services.GetRequiredService<FunctionRequests>().Warm();
        var logger = host.Services.GetRequiredService<ILogger<FunctionRequests>>();
        HostingLog.Mode(logger, "worker (Azure Functions .NET isolated worker)");
        var storage = host.Services.GetRequiredService<IConfiguration>().GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        if (!string.Equals(storage.Provider, StorageSetup.AzureStorageProvider, StringComparison.OrdinalIgnoreCase))
        {
            // The host's queue triggers read Azure Storage (AzureWebJobsStorage); messages the app puts in its embedded
            // queues would never reach them.
            HostingLog.EmbeddedQueues(logger, storage.Provider);
        }

        host.Run();
    }
}

internal static partial class HostingLog
{
    [LoggerMessage(EventId = 450, Level = LogLevel.Information, Message = "Run mode: {Mode}")]
    public static partial void Mode(ILogger logger, string mode);

    [LoggerMessage(EventId = 451, Level = LogLevel.Warning, Message = "Storage:Provider is {Provider} under the Functions host: queue functions read Azure Storage (AzureWebJobsStorage) and will not see the app's queued work; set Storage__Provider=AzureStorage on the same account")]
    public static partial void EmbeddedQueues(ILogger logger, string provider);
}
