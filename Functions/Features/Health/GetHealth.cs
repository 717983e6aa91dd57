using System.Diagnostics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Health;

internal static class GetHealth
{
    internal sealed record Response(string Status, string Version, long UptimeSeconds, DateTimeOffset Timestamp);

    public static IResult Handle(TimeProvider time) =>
        Results.Json(new Response("healthy", ApiVersion.Current, Uptime.Seconds, time.GetUtcNow()));
}

internal static class Uptime
{
    private static readonly long Started = Stopwatch.GetTimestamp();

    public static long Seconds => (long)Stopwatch.GetElapsedTime(Started).TotalSeconds;
}
