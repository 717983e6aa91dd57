using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Analytics;

/// <summary><c>GET /api/v1/analytics/performance</c>: run latency and success per workflow and app, node latency per type, model latency and time to first token per model.</summary>
internal static class GetPerformance
{
    internal sealed record Response(
        PeriodView Period, RunPerformanceView Runs, IReadOnlyList<RunPerformanceView> Workflows, IReadOnlyList<RunPerformanceView> Apps,
        IReadOnlyList<NodePerformanceView> NodeTypes, IReadOnlyList<ModelPerformanceView> Models);

    public static async Task<IResult> HandleAsync(string partition, HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken)
    {
        var (period, error) = AnalyticsPeriod.Parse(request, time, TimeSpan.FromDays(7));
        if (error is not null)
        {
            return error;
        }

        var total = await reader.TotalAsync(partition, period!, cancellationToken);
        var workflows = await reader.ByValueAsync(partition, Dimensions.Workflow, period!, cancellationToken);
        var apps = await reader.ByValueAsync(partition, Dimensions.App, period!, cancellationToken);
        var nodes = await reader.ByValueAsync(partition, Dimensions.NodeType, period!, cancellationToken);
        var models = await reader.ByValueAsync(partition, Dimensions.Model, period!, cancellationToken);
        return Api.Ok(new Response(
            PeriodView.Of(period!),
            RunPerformanceView.From(null, total),
            RunPerformanceView.Ranked(workflows),
            RunPerformanceView.Ranked(apps),
            NodePerformanceView.Ranked(nodes),
            [.. models.Values.Where(c => c.Requests > 0).OrderByDescending(c => c.Requests).ThenBy(c => c.Value, StringComparer.Ordinal)
                .Select(c => new ModelPerformanceView(c.Value!, c.Requests, c.Errors, Math.Round((double)c.Errors / c.Requests, 4),
                    LatencyView.From(c.ModelLatency), LatencyView.From(c.FirstToken)))]));
    }
}
