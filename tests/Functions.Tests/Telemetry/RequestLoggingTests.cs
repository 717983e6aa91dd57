using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Telemetry;

/// <summary>The console no longer gets lines per request unless Telemetry:LogRequests asks for them; logs carry the trace.</summary>
public sealed class RequestLoggingTests
{
    private const string HostingCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    [Fact]
    public async Task Requests_ByDefault_AreNotLoggedPerRequest()
    {
        var logs = await LogsOfOneRequestAsync(new Dictionary<string, string?>());

        Assert.DoesNotContain(logs, l => l.Category.StartsWith("Microsoft.AspNetCore.Hosting", StringComparison.Ordinal) && l.Message.Contains("/health", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Category.StartsWith("Microsoft.AspNetCore.Routing.EndpointMiddleware", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Category.StartsWith("Microsoft.AspNetCore.Http.Result", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Requests_WithLogRequests_AreLogged_WithTheirTraceId()
    {
        var logs = await LogsOfOneRequestAsync(new Dictionary<string, string?> { ["Telemetry:LogRequests"] = "true" });

        var starting = Assert.Single(logs, l => l.Category == HostingCategory && l.Message.StartsWith("Request starting", StringComparison.Ordinal) && l.Message.Contains("/health", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, starting.Level);
        // "Request finished" may come after the client has its answer; what is logged before the answer is enough.
        Assert.Contains(logs, l => l.Category == "Microsoft.AspNetCore.Routing.EndpointMiddleware" && l.Message.StartsWith("Executing endpoint", StringComparison.Ordinal));
        Assert.Matches("^[0-9a-f]{32}$", starting.TraceId);
        Assert.DoesNotMatch("^0+$", starting.TraceId);
    }

    private static async Task<IReadOnlyList<CapturedLog>> LogsOfOneRequestAsync(Dictionary<string, string?> settings)
    {
        var captured = new CapturingLoggerProvider();
        await using var factory = PlatformFactory.With(settings);
        factory.TestServices = services => services.AddSingleton<ILoggerProvider>(captured);
        using var client = factory.CreateClient();

        var health = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        return [.. captured.Logs];
    }
}
