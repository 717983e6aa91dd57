using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Analytics;

/// <summary><c>GET /api/v1/admin/analytics/executions</c> (AutoGPT admin): runs across every workspace.</summary>
internal static class GetAdminExecutions
{
    internal sealed record Response(
        PeriodView Period, RunPerformanceView Runs, IReadOnlyList<RunPerformanceView> Workspaces, IReadOnlyList<NodePerformanceView> NodeTypes,
        IReadOnlyList<MetricPointView> DailyExecutions);

    public static async Task<IResult> HandleAsync(HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken)
    {
        var (period, error) = AnalyticsPeriod.Parse(request, time, TimeSpan.FromDays(30));
        if (error is not null)
        {
            return error;
        }

        const string platform = AnalyticsRollups.PlatformPartition;
        var total = await reader.TotalAsync(platform, period!, cancellationToken);
        var workspaces = await reader.ByValueAsync(platform, Dimensions.Workspace, period!, cancellationToken);
        var nodes = await reader.ByValueAsync(platform, Dimensions.NodeType, period!, cancellationToken);
        var daily = await reader.SeriesAsync(platform, Dimensions.All, "", period!, Interval.Day, cancellationToken) ?? [];
        return Api.Ok(new Response(
            PeriodView.Of(period!),
            RunPerformanceView.From(null, total),
            RunPerformanceView.Ranked(workspaces),
            NodePerformanceView.Ranked(nodes),
            [.. daily.Select(p => new MetricPointView(p.Start, p.Cell.Runs))]));
    }
}
