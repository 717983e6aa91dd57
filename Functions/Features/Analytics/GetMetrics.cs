using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Analytics;

/// <summary><c>GET /api/v1/analytics/metrics?type=…&amp;interval=1h|1d|1w</c> (FlowAtGenAI): one metric as a time series, every bucket of the period present.</summary>
internal static class GetMetrics
{
    internal sealed record Response(string Type, string Interval, string? WorkflowId, PeriodView Period, IReadOnlyList<MetricPointView> Series);

    /// <summary>The metrics by name: their value in a cell, null where undefined.</summary>
    public static readonly IReadOnlyDictionary<string, Func<RollupCell, double?>> Types = new Dictionary<string, Func<RollupCell, double?>>(StringComparer.Ordinal)
    {
        ["execution_count"] = c => c.Runs,
        ["error_rate"] = c => c.Runs == 0 ? null : Math.Round((double)c.RunsFailed / c.Runs, 4),
        ["latency_p50"] = c => LatencyView.Round(c.RunLatency?.Percentile(50)),
        ["latency_p95"] = c => LatencyView.Round(c.RunLatency?.Percentile(95)),
        ["tokens"] = c => c.TotalTokens,
        ["cost"] = c => (double)Math.Round(c.CostUsd, 6),
    };

    public static async Task<IResult> HandleAsync(string partition, HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken)
    {
        var q = request.Query;
        var type = q["type"].ToString();
        if (!Types.TryGetValue(type, out var metric))
        {
            return Api.Validation("type", $"type must be one of {string.Join(", ", Types.Keys)}.");
        }

        var rawInterval = q["interval"].Count == 0 ? "1h" : q["interval"].ToString();
        var (interval, intervalError) = AnalyticsPeriod.ParseInterval(rawInterval, "interval");
        if (intervalError is not null)
        {
            return intervalError;
        }

        var defaultSpan = interval switch { Interval.Hour => TimeSpan.FromDays(1), Interval.Day => TimeSpan.FromDays(30), _ => TimeSpan.FromDays(84) };
        var (period, error) = AnalyticsPeriod.Parse(request, time, defaultSpan);
        if (error is not null)
        {
            return error;
        }

        var workflowId = q["workflowId"].Count == 0 ? null : q["workflowId"].ToString();
        var dimension = workflowId is null ? Dimensions.All : Dimensions.Workflow;
        var keep = type.StartsWith("latency_", StringComparison.Ordinal) ? Latencies.Run : Latencies.None;
        if (await reader.SeriesAsync(partition, dimension, workflowId ?? "", period!, interval!.Value, cancellationToken, keep) is not { } series)
        {
            return Api.Validation("interval", $"The period holds more than {AnalyticsPeriod.MaxBuckets} buckets of {rawInterval}: narrow from/to or widen the interval.");
        }

        return Api.Ok(new Response(type, rawInterval, workflowId, PeriodView.Of(period!), [.. series.Select(p => new MetricPointView(p.Start, metric(p.Cell)))]));
    }
}
