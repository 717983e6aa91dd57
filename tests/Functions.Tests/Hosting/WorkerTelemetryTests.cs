using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Serverless.Functions.Hosting;

namespace Serverless.Functions.Tests.Hosting;

/// <summary>Worker mode sends its telemetry to Application Insights exactly when the deployment configures it.</summary>
public sealed class WorkerTelemetryTests
{
    private static readonly string[] HostArguments =
    [
        "--Functions:Worker:HostEndpoint=http://127.0.0.1:9",
        "--Functions:Worker:WorkerId=test-worker",
        "--Functions:Worker:RequestId=test-request",
        "--Models:Discover=false",
    ];

    [Fact]
    public void WithAnApplicationInsightsConnectionString_TheWorkerTracesThroughOpenTelemetry()
    {
        using var host = WorkerHost.CreateBuilder(
            [.. HostArguments, "--APPLICATIONINSIGHTS_CONNECTION_STRING=InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"]).Build();

        Assert.NotNull(host.Services.GetService<TracerProvider>());
    }

    [Fact]
    public void WithoutOne_NothingIsExported()
    {
        using var host = WorkerHost.CreateBuilder(HostArguments).Build();

        Assert.Null(host.Services.GetService<TracerProvider>());
    }
}
