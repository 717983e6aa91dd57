using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Analytics;

namespace Serverless.Functions.Features.Analytics;

/// <summary>
/// Keeps raw data bounded: usage rows older than <c>Analytics__UsageRetentionDays</c> and five-minute cells older than
/// two days (they only serve alert windows) are deleted; hour and day cells stay. The workspaces to visit come from the
/// platform's per-workspace day cells around the cut-offs, so a sweep reads what changed lately, not every workspace.
/// </summary>
internal sealed class AnalyticsRetention(UsageLedger usage, AnalyticsRollups rollups, IOptions<AnalyticsOptions> options, TimeProvider time, ILogger<AnalyticsRetention> logger)
{
    public static readonly TimeSpan FiveMinuteCellsKept = TimeSpan.FromDays(2);
    private static readonly TimeSpan Lookback = TimeSpan.FromDays(7);
    private const int MaxRowsPerWorkspace = 10_000;

    public async Task<(int UsageRows, int Cells)> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cellCutoff = now - FiveMinuteCellsKept;
        var cells = 0;
        foreach (var workspace in (await ActiveAsync(cellCutoff - Lookback, now, cancellationToken)).Append(AnalyticsRollups.PlatformPartition))
        {
            cells += await rollups.DeleteFiveMinuteCellsAsync(workspace, cellCutoff, cancellationToken);
        }

        var rows = 0;
        if (options.Value.UsageRetentionDays > 0)
        {
            var cutoff = now - TimeSpan.FromDays(options.Value.UsageRetentionDays);
            foreach (var workspace in await ActiveAsync(cutoff - Lookback, cutoff, cancellationToken))
            {
                rows += await usage.DeleteBeforeAsync(workspace, cutoff, MaxRowsPerWorkspace, cancellationToken);
            }
        }

        if (rows > 0 || cells > 0)
        {
            AnalyticsLog.RetentionSwept(logger, rows, cells);
        }

        return (rows, cells);
    }

    private async Task<HashSet<string>> ActiveAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var rows = await rollups.ReadAsync(AnalyticsRollups.PlatformPartition, Dimensions.Workspace, Granularity.Day, from, to, cancellationToken);
        return [.. rows.Select(r => r.Value)];
    }
}
