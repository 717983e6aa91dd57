using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Serverless.Functions.Tests.Support;

public sealed record CapturedLog(string Category, LogLevel Level, string Message, string? TraceId);

/// <summary>Keeps every log entry with the TraceId the logging scopes (ActivityTrackingOptions) give it.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
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
