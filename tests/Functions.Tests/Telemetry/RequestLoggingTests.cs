using System.Collections.Concurrent;
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

    private sealed record CapturedLog(string Category, LogLevel Level, string Message, string? TraceId);

    /// <summary>Keeps every log entry with the TraceId the logging scopes (ActivityTrackingOptions) give it.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider? _scopes;

        public ConcurrentQueue<CapturedLog> Logs { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes?.Push(state);

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                string? traceId = null;
                provider._scopes?.ForEachScope((scope, _) =>
                {
                    if (scope is IEnumerable<KeyValuePair<string, object?>> values)
                    {
                        foreach (var (key, value) in values)
                        {
                            if (key == "TraceId")
                            {
                                traceId = value?.ToString();
                            }
                        }
                    }
                }, (object?)null);
                provider.Logs.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception), traceId));
            }
        }
    }
}
