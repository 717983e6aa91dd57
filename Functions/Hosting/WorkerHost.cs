using System.Runtime.CompilerServices;
using Microsoft.Azure.Functions.Worker;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;

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
        AddTelemetry(builder);
        return builder;
    }

    /// <summary>
    /// With Application Insights configured (the deployment sets APPLICATIONINSIGHTS_CONNECTION_STRING), the worker's
    /// traces, metrics and logs go there through OpenTelemetry, authenticated with the app's identity (the resource
    /// allows no local keys). host.json's telemetryMode makes the Functions host do the same, so the two correlate.
    /// </summary>
    private static void AddTelemetry(FunctionsApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[ApplicationInsightsConnectionString]))
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .UseAzureMonitorExporter(options => options.Credential = Platform.AppIdentity.CreateDefaultCredential());
    }

    private const string ApplicationInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(string[] args)
    {
        using var host = CreateBuilder(args).Build();
        host.Services.GetRequiredService<FunctionRequests>().Warm();
        HostingLog.Mode(host.Services.GetRequiredService<ILogger<FunctionRequests>>(), "worker (Azure Functions .NET isolated worker)");
        host.Run();
    }
}

internal static partial class HostingLog
{
    [LoggerMessage(EventId = 450, Level = LogLevel.Information, Message = "Run mode: {Mode}")]
    public static partial void Mode(ILogger logger, string mode);
}
