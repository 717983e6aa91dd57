using System.Globalization;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Analytics;

/// <summary><c>GET /api/v1/analytics/usage?groupBy=…</c>: requests, tokens, cost, runs and errors per time bucket or per dimension value.</summary>
internal static class GetUsageStatistics
{
    internal sealed record Response(string GroupBy, PeriodView Period, UsageStatsView Totals, IReadOnlyList<UsageStatsView> Groups);

    public static readonly IReadOnlyDictionary<string, string> WorkspaceGroups = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["model"] = Dimensions.Model, ["provider"] = Dimensions.Provider, ["app"] = Dimensions.App, ["workflow"] = Dimensions.Workflow,
        ["apiKey"] = Dimensions.ApiKey, ["user"] = Dimensions.User,
    };

    public static readonly IReadOnlyDictionary<string, string> PlatformGroups = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["model"] = Dimensions.Model, ["provider"] = Dimensions.Provider, ["workspace"] = Dimensions.Workspace,
    };

    public static async Task<IResult> HandleAsync(
        string partition, IReadOnlyDictionary<string, string> groups, HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken)
    {
        var groupBy = request.Query["groupBy"].ToString();
        var (period, error) = AnalyticsPeriod.Parse(request, time, TimeSpan.FromDays(7));
        if (error is not null)
        {
            return error;
        }

        Interval? interval = groupBy switch { "hour" => Interval.Hour, "day" => Interval.Day, "week" => Interval.Week, _ => null };
        if (interval is null && !groups.ContainsKey(groupBy))
        {
            return Api.Validation("groupBy", $"groupBy must be one of hour, day, week, {string.Join(", ", groups.Keys)}.");
        }

        var totals = await reader.TotalAsync(partition, period!, cancellationToken);
        List<UsageStatsView> views;
        if (interval is { } bucket)
        {
            if (await reader.SeriesAsync(partition, Dimensions.All, null, period!, bucket, cancellationToken) is not { } series)
            {
                return Api.Validation("groupBy", $"The period holds more than {AnalyticsPeriod.MaxBuckets} {groupBy} buckets: narrow from/to.");
            }

            views = [.. series.Select(p => UsageStatsView.From(p.Start.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture), p.Cell))];
        }
        else
        {
            var byValue = await reader.ByValueAsync(partition, groups[groupBy], period!, cancellationToken);
            views = [.. byValue.Values.OrderByDescending(c => c.Requests + c.Runs).ThenBy(c => c.Value, StringComparer.Ordinal)
                .Select(c => UsageStatsView.From(c.Value, c))];
        }

        return Api.Ok(new Response(groupBy, PeriodView.Of(period!), UsageStatsView.From(null, totals), views));
    }
}
