namespace Serverless.Functions.Platform.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Error, Message = "Embedded store: a group transaction of {Count} writes failed")]
    public static partial void WriteFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Error, Message = "Embedded store: the follow-up of a committed write failed")]
    public static partial void ApplyFailed(ILogger logger, Exception exception);
}
