using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Analytics;

/// <summary><c>GET /api/v1/analytics/costs</c>: model cost in USD (from the model prices) with its breakdowns.</summary>
internal static class GetCosts
{
    internal sealed record Response(PeriodView Period, string Currency, decimal TotalUsd, long Requests, long TotalTokens, IReadOnlyDictionary<string, IReadOnlyList<CostLineView>> By);

    public static async Task<IResult> HandleAsync(
        string partition, IReadOnlyDictionary<string, string> groups, HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken)
    {
        var (period, error) = AnalyticsPeriod.Parse(request, time, TimeSpan.FromDays(30));
        if (error is not null)
        {
            return error;
        }

        var total = await reader.TotalAsync(partition, period!, cancellationToken);
        var by = new Dictionary<string, IReadOnlyList<CostLineView>>(StringComparer.Ordinal);
        foreach (var (name, dimension) in groups)
        {
            var cells = await reader.ByValueAsync(partition, dimension, period!, cancellationToken);
            by[name] = [.. cells.Values.Where(c => c.Requests > 0).OrderByDescending(c => c.CostUsd).ThenBy(c => c.Value, StringComparer.Ordinal)
                .Select(c => new CostLineView(c.Value!, Math.Round(c.CostUsd, 6), c.Requests, c.TotalTokens,
                    total.CostUsd == 0 ? 0 : Math.Round((double)(c.CostUsd / total.CostUsd), 4)))];
        }

        return Api.Ok(new Response(PeriodView.Of(period!), "USD", Math.Round(total.CostUsd, 6), total.Requests, total.TotalTokens, by));
    }
}
