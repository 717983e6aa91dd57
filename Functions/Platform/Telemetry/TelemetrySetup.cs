using System.Diagnostics;
using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Platform.Telemetry;

internal static class TelemetrySetup
{
    /// <summary>Set: traces, metrics and logs go to this OTLP endpoint (the other OTEL_EXPORTER_OTLP_* variables apply).</summary>
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Set: traces, metrics and logs go to Application Insights, authenticated with the app's identity.</summary>
    public const string ApplicationInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    public const string DefaultServiceName = "serverless-platform";

    // The Azure SDK emits its spans through ActivitySources ("Azure.*") only when this switch is on.
    private const string AzureSdkActivitySources = "Azure.Experimental.EnableActivitySource";

    /// <summary>What writes a line (or several) per HTTP request at Information: quiet unless Telemetry:LogRequests.</summary>
    internal static readonly IReadOnlyList<string> RequestLogCategories =
    [
        "Microsoft.AspNetCore.Hosting.Diagnostics",
        "Microsoft.AspNetCore.Routing.EndpointMiddleware",
        "Microsoft.AspNetCore.Http.Result",
        "System.Net.Http.HttpClient",
    ];

    /// <summary>
    /// Telemetry in both modes: the platform's run and model telemetry, logs that carry the trace, request lines only
    /// when asked for, and exporters when configured (OTLP, Application Insights, or both). With neither, no provider
    /// is registered: the platform's spans have no listener and cost nothing. <paramref name="host"/> adds what the
    /// host needs (worker mode: the Functions worker's defaults).
    /// </summary>
    public static IHostApplicationBuilder AddPlatformTelemetry(this IHostApplicationBuilder builder, Action<OpenTelemetryBuilder>? host = null)
    {
        var configuration = builder.Configuration;
        builder.Services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.Section));
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (!options.LogRequests)
        {
            foreach (var category in RequestLogCategories)
            {
                builder.Logging.AddFilter(category, LogLevel.Warning);
            }
        }

        builder.Services.AddSingleton<RunTelemetry>();
        builder.Services.AddSingleton<IExecutionObserver>(sp => sp.GetRequiredService<RunTelemetry>());
        builder.Services.AddSingleton<INodeAttemptObserver>(sp => sp.GetRequiredService<RunTelemetry>());

        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]);
        var azureMonitor = !string.IsNullOrWhiteSpace(configuration[ApplicationInsightsConnectionString]);
        if (!otlp && !azureMonitor)
        {
            return builder;
        }

        AppContext.SetSwitch(AzureSdkActivitySources, true);
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : DefaultServiceName;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing => tracing
                .AddSource(PlatformTelemetry.Name)
                .AddSource("Azure.*")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation(http => http.FilterHttpRequestMessage = _ =>
                    // The Azure SDK's own HTTP span ("Azure.Core.Http") already describes this request: one span is enough.
                    Activity.Current?.Parent?.Source.Name != "Azure.Core.Http"))
            .WithMetrics(metrics => metrics
                .AddMeter(PlatformTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter("System.Runtime"))
            .WithLogging(logging => { }, logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
            });
        host?.Invoke(telemetry);
        if (otlp)
        {
            telemetry.UseOtlpExporter();
        }

        if (azureMonitor)
        {
            telemetry.UseAzureMonitorExporter(o => o.Credential = AppIdentity.CreateDefaultCredential());
        }

        return builder;
    }
}
