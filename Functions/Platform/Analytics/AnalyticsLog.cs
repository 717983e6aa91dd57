namespace Serverless.Functions.Platform.Analytics;

/// <summary>Events of analytics, exports and alerts (EventIds 1700-1719).</summary>
internal static partial class AnalyticsLog
{
    [LoggerMessage(EventId = 1700, Level = LogLevel.Warning, Message = "Roll-up {Partition}/{RowKey} could not be written; its delta waits for the next flush")]
    public static partial void RollupWriteFailed(ILogger logger, Exception exception, string partition, string rowKey);

    [LoggerMessage(EventId = 1701, Level = LogLevel.Error, Message = "Export {ExportId} failed")]
    public static partial void ExportFailed(ILogger logger, Exception exception, string exportId);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Information, Message = "Alert {AlertId} {Transition}: {Metric} = {Value} against {Threshold}")]
    public static partial void AlertTransition(ILogger logger, string alertId, string transition, string metric, double value, double threshold);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Warning, Message = "Alert {AlertId} could not be evaluated")]
    public static partial void AlertFailed(ILogger logger, Exception exception, string alertId);

    [LoggerMessage(EventId = 1704, Level = LogLevel.Information, Message = "Analytics retention: deleted {UsageRows} usage rows and {Cells} five-minute cells")]
    public static partial void RetentionSwept(ILogger logger, int usageRows, int cells);
}
