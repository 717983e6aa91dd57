namespace Serverless.Functions.Platform.Telemetry;

/// <summary>Section "Telemetry": what the app logs besides what it exports (exporters follow the OTEL_* and APPLICATIONINSIGHTS_* variables).</summary>
internal sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>
    /// Log a line per HTTP request (ASP.NET Core's "Request starting/finished", endpoint and result lines) at
    /// Information. Off by default: request spans and the http.server metrics say the same without flooding the log.
    /// </summary>
    public bool LogRequests { get; set; }
}
