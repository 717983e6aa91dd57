using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Platform.Analytics;

internal sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>How long roll-up deltas gather in memory before they are merged into the store; bounds how stale analytics are.</summary>
    [Range(10, 60_000)]
    public int FlushMilliseconds { get; set; } = 1000;

    /// <summary>Days raw usage rows (one per model call) are kept; 0 keeps them forever. Roll-ups are kept regardless.</summary>
    [Range(0, 3650)]
    public int UsageRetentionDays { get; set; } = 90;

    /// <summary>Minutes an export's download link stays valid.</summary>
    [Range(1, 10_080)]
    public int ExportLinkMinutes { get; set; } = 60;

    public TimeSpan FlushInterval => TimeSpan.FromMilliseconds(FlushMilliseconds);
}
