using System.Text.Json.Serialization;
using Serverless.Functions.Platform.Analytics;

namespace Serverless.Functions.Features.Analytics;

/// <summary>Latency percentiles in milliseconds (nearest rank, within 2 % of the exact value; see <see cref="LatencyHistogram"/>).</summary>
internal sealed record LatencyView(long Count, double? Avg, double? P50, double? P95, double? P99)
{
    public static LatencyView From(LatencyHistogram? histogram) => histogram is null or { Count: 0 }
        ? new LatencyView(0, null, null, null, null)
        : new LatencyView(histogram.Count, Round(histogram.Mean), Round(histogram.Percentile(50)), Round(histogram.Percentile(95)), Round(histogram.Percentile(99)));

    public static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;
}

/// <summary>Usage statistics of one group (a time bucket or a dimension value) or of the whole period.</summary>
internal sealed record UsageStatsView(
    string? Key, long Requests, long Errors, long PromptTokens, long CompletionTokens, long TotalTokens, decimal CostUsd,
    long Runs, long RunsSucceeded, long RunsFailed)
{
    public static UsageStatsView From(string? key, RollupCell cell) => new(
        key, cell.Requests, cell.Errors, cell.PromptTokens, cell.CompletionTokens, cell.TotalTokens, Math.Round(cell.CostUsd, 6),
        cell.Runs, cell.RunsSucceeded, cell.RunsFailed);
}

/// <summary>A period as answered: the bounds asked (or defaulted) and the zone of its buckets.</summary>
internal sealed record PeriodView(DateTimeOffset From, DateTimeOffset To, string Tz)
{
    public static PeriodView Of(AnalyticsPeriod period) => new(period.From, period.To, period.Zone.Id);
}

/// <summary>Runs of one workflow, app or the whole period: counts, success rate (succeeded ÷ ended, stops included) and latency.</summary>
internal sealed record RunPerformanceView(string? Key, long Runs, long Succeeded, long Failed, long Cancelled, double? SuccessRate, LatencyView LatencyMs)
{
    public static RunPerformanceView From(string? key, RollupCell cell) => new(
        key, cell.Runs, cell.RunsSucceeded, cell.RunsFailed, cell.RunsCancelled,
        cell.Runs == 0 ? null : Math.Round((double)cell.RunsSucceeded / cell.Runs, 4), LatencyView.From(cell.RunLatency));

    /// <summary>The values that had runs, most runs first (the first <paramref name="take"/>; only theirs are made into percentiles).</summary>
    public static List<RunPerformanceView> Ranked(Dictionary<string, RollupCell> cells, int take = int.MaxValue) =>
        [.. cells.Values.Where(c => c.Runs > 0).OrderByDescending(c => c.Runs).ThenBy(c => c.Value, StringComparer.Ordinal).Take(take).Select(c => From(c.Value, c))];
}

internal sealed record NodePerformanceView(string Type, long Attempts, long Failed, LatencyView LatencyMs)
{
    /// <summary>The node types that ran, most attempts first.</summary>
    public static List<NodePerformanceView> Ranked(Dictionary<string, RollupCell> cells) =>
        [.. cells.Values.Where(c => c.Nodes > 0).OrderByDescending(c => c.Nodes).ThenBy(c => c.Value, StringComparer.Ordinal)
            .Select(c => new NodePerformanceView(c.Value!, c.Nodes, c.NodesFailed, LatencyView.From(c.NodeLatency)))];
}

internal sealed record ModelPerformanceView(string Model, long Requests, long Errors, double? ErrorRate, LatencyView LatencyMs, LatencyView TimeToFirstTokenMs);

internal sealed record CostLineView(string Key, decimal CostUsd, long Requests, long TotalTokens, double Share);

/// <summary>One point of a time series; <c>value</c> is null where the metric is undefined (an error rate or percentile without runs).</summary>
internal sealed record MetricPointView(DateTimeOffset Timestamp, double? Value);

/// <summary>FlowAtGenAI's dashboard KPIs (snake_case as in its API) and what a dashboard shows beside them.</summary>
internal sealed record DashboardView(
    [property: JsonPropertyName("total_executions")] long TotalExecutions,
    [property: JsonPropertyName("success_rate")] double? SuccessRate,
    [property: JsonPropertyName("avg_latency")] double? AvgLatency,
    [property: JsonPropertyName("savings_estimate")] decimal SavingsEstimate,
    [property: JsonPropertyName("savings_unit")] string SavingsUnit,
    [property: JsonPropertyName("executions_today")] long ExecutionsToday,
    [property: JsonPropertyName("failed_executions")] long FailedExecutions,
    [property: JsonPropertyName("model_requests")] long ModelRequests,
    [property: JsonPropertyName("total_tokens")] long TotalTokens,
    [property: JsonPropertyName("cost_usd")] decimal CostUsd,
    [property: JsonPropertyName("top_workflows")] IReadOnlyList<RunPerformanceView> TopWorkflows,
    [property: JsonPropertyName("period")] PeriodView Period);
