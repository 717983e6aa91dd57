using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Platform.Security;

internal sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Requests per minute per principal (user or API key) on ordinary routes; a key's own limit overrides it.</summary>
    [Range(1, 10_000_000)]
    public int GeneralPerMinute { get; set; } = 600;

    /// <summary>Requests per minute per principal on routes that start work (workflow runs, model calls).</summary>
    [Range(1, 10_000_000)]
    public int ExecutePerMinute { get; set; } = 60;

    /// <summary>Requests per minute per principal on bulk export routes.</summary>
    [Range(1, 10_000_000)]
    public int ExportPerMinute { get; set; } = 10;

    /// <summary>Requests per minute per client IP on login, register and password-reset routes.</summary>
    [Range(1, 10_000_000)]
    public int AuthPerMinutePerIp { get; set; } = 20;

    /// <summary>The window a caller's requests of a route class count in, and its limit.</summary>
    public (string Key, int Limit) BudgetOf(Caller caller, RateLimitClass limitClass) => limitClass switch
    {
        RateLimitClass.Execute => ("execute:" + caller.PrincipalId, ExecutePerMinute),
        RateLimitClass.Export => ("export:" + caller.PrincipalId, ExportPerMinute),
        _ => ("general:" + caller.PrincipalId, caller.RateLimitPerMinute ?? GeneralPerMinute),
    };
}

internal enum RateLimitClass
{
    General,
    Execute,
    Export,
    Auth,
}

internal sealed record RateLimitMetadata(RateLimitClass Class);

internal static class RateLimitEndpoints
{
    public static TBuilder WithRateLimitClass<TBuilder>(this TBuilder builder, RateLimitClass limitClass) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RateLimitMetadata(limitClass));
}

/// <summary>
/// Fixed one-minute windows per (class, principal), kept in this instance's memory. The headers tell the
/// client its budget on every limited response; a 429 adds Retry-After.
/// </summary>
internal sealed class RateLimiter : IDisposable
{
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ITimer _sweeper;

    public RateLimiter(TimeProvider time)
    {
        _time = time;
        _sweeper = time.CreateTimer(_ => Sweep(), null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    public RateDecision Acquire(string key, int limit)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var minute = now / 60;
        var window = _windows.GetOrAdd(key, static _ => new Window());
        lock (window)
        {
            if (window.Minute != minute)
            {
                window.Minute = minute;
                window.Count = 0;
            }

            var allowed = window.Count < limit;
            if (allowed)
            {
                window.Count++;
            }

            var reset = (minute + 1) * 60;
            return new RateDecision(allowed, limit, Math.Max(0, limit - window.Count), reset, (int)Math.Max(1, reset - now));
        }
    }

    public void Dispose() => _sweeper.Dispose();

    private void Sweep()
    {
        var minute = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        foreach (var (key, window) in _windows)
        {
            if (window.Minute < minute)
            {
                _windows.TryRemove(new KeyValuePair<string, Window>(key, window));
            }
        }
    }

    private sealed class Window
    {
        public long Minute;
        public int Count;
    }
}

internal readonly record struct RateDecision(bool Allowed, int Limit, int Remaining, long ResetUnixSeconds, int RetryAfterSeconds)
{
    public string Refusal => $"Rate limit of {Limit} requests per minute exceeded; retry after {RetryAfterSeconds} s.";
}

internal sealed class RateLimitMiddleware(RequestDelegate next, RateLimiter limiter, Microsoft.Extensions.Options.IOptions<RateLimitOptions> options)
{
    private readonly RateLimitOptions _options = options.Value;

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            return next(context);
        }

        var declared = endpoint.Metadata.GetMetadata<RateLimitMetadata>()?.Class;
        var caller = context.Features.Get<Caller>();
        string key;
        int limit;
        if (declared == RateLimitClass.Auth)
        {
            key = "auth:" + ClientAddress(context);
            limit = _options.AuthPerMinutePerIp;
        }
        else if (caller is not null)
        {
            (key, limit) = _options.BudgetOf(caller, declared ?? RateLimitClass.General);
        }
        else
        {
            // Anonymous probes and docs are not limited here; unauthenticated calls to protected routes get 401 next.
            return next(context);
        }

        var decision = limiter.Acquire(key, limit);
        var headers = context.Response.Headers;
        headers["X-RateLimit-Limit"] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = decision.ResetUnixSeconds.ToString(CultureInfo.InvariantCulture);
        if (decision.Allowed)
        {
            return next(context);
        }

        headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return ErrorWriter.WriteAsync(context, StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimitExceeded, decision.Refusal);
    }

    /// <summary>
    /// The socket peer. In worker mode the worker's forwarded-headers middleware has already replaced the Functions host's
    /// loopback address with the last X-Forwarded-For entry (only a loopback peer is trusted for that); standalone, the
    /// header is the client's own word and is ignored.
    /// </summary>
    private static string ClientAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
