namespace Serverless.Functions.Platform.Durable;

internal static partial class DurableLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Information, Message = "Durable store: opened {Path} with {Messages} orchestration messages and {Activities} activities waiting")]
    public static partial void Opened(ILogger logger, string path, int messages, int activities);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "Durable store: a transaction of {Count} writes failed; none of them was applied")]
    public static partial void WriteFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Error, Message = "Durable store: applying a committed write to the in-memory queues failed")]
    public static partial void ApplyFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Debug, Message = "Durable store: dropped a {EventType} message for instance {InstanceId}, which {Reason}")]
    public static partial void MessageDropped(ILogger logger, string eventType, string instanceId, string reason);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Durable store: the lock on {Kind} {Id} expired after {LockTimeout}; its work is offered again")]
    public static partial void LockExpired(ILogger logger, string kind, string id, TimeSpan lockTimeout);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Error, Message = "Durable store: dropped unreadable stored {Kind} {Id}")]
    public static partial void UnreadableDropped(ILogger logger, Exception exception, string kind, long id);
}
