using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Analytics;

/// <summary>
/// <c>GET /api/v1/analytics/dashboard</c> (FlowAtGenAI): runs, success rate (succeeded ÷ ended) and mean run latency
/// (ms) over the period (default: the last 30 days), and <c>savings_estimate</c>: the minutes the workflows saved, each
/// successful run counting its workflow's <c>minutesSavedPerRun</c> as it was when the run ended.
/// </summary>
internal static class GetDashboard
{
    public const int TopWorkflows = 5;

    public static async Task<IResult> HandleAsync(string partition, HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken)
    {
        var (period, error) = AnalyticsPeriod.Parse(request, time, TimeSpan.FromDays(30));
        if (error is not null)
        {
            return error;
        }

        var total = await reader.TotalAsync(partition, period!, cancellationToken);
        var now = time.GetUtcNow();
        var today = await reader.TotalAsync(partition, period! with { From = period!.BucketOf(now, Interval.Day), To = now.AddTicks(1) }, cancellationToken);
        var workflows = await reader.ByValueAsync(partition, Dimensions.Workflow, period!, cancellationToken);
        var top = RunPerformanceView.Ranked(workflows, TopWorkflows);
        return Api.Ok(new DashboardView(
            total.Runs,
            total.Runs == 0 ? null : Math.Round((double)total.RunsSucceeded / total.Runs, 4),
            LatencyView.Round(total.RunLatency?.Mean),
            Math.Round(total.MinutesSaved, 2),
            "minutes",
            today.Runs,
            total.RunsFailed,
            total.Requests,
            total.TotalTokens,
            Math.Round(total.CostUsd, 6),
            top,
            PeriodView.Of(period!)));
    }
}
