namespace Serverless.Functions.Triggers;

/// <summary>Events of the trigger layer (EventIds 400-449).</summary>
internal static partial class TriggersLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Error, Message = "Trigger function {Name} failed")]
    public static partial void Failed(ILogger logger, Exception exception, string name);

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Standalone trigger host is off (Triggers:Enabled is false)")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(EventId = 411, Level = LogLevel.Information, Message = "Standalone trigger host started {Count} timer/queue loops")]
    public static partial void Started(ILogger logger, int count);

    [LoggerMessage(EventId = 412, Level = LogLevel.Error, Message = "Function {Name} has an invalid schedule '{Schedule}'; it will not run")]
    public static partial void BadSchedule(ILogger logger, string name, string schedule);

    [LoggerMessage(EventId = 413, Level = LogLevel.Warning, Message = "Message {MessageId} moved to the poison queue of {Queue} after {DequeueCount} attempts")]
    public static partial void Poisoned(ILogger logger, string messageId, string queue, int dequeueCount);

    [LoggerMessage(EventId = 414, Level = LogLevel.Warning, Message = "Polling queue {Queue} failed")]
    public static partial void PollFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(EventId = 415, Level = LogLevel.Information, Message = "Deleted {Count} expired records")]
    public static partial void CleanedUp(ILogger logger, int count);

    [LoggerMessage(EventId = 416, Level = LogLevel.Warning, Message = "Workflow sweep checked {Checked} runs, started {Started} orphaned runs, freed {Released} slots")]
    public static partial void Swept(ILogger logger, int @checked, int started, int released);

    [LoggerMessage(EventId = 417, Level = LogLevel.Warning, Message = "Ignored a message on {Queue}: not something its function handles, or about nothing that exists")]
    public static partial void Ignored(ILogger logger, string queue);

    [LoggerMessage(EventId = 418, Level = LogLevel.Warning, Message = "Could not read the backlog of queue {Queue}; the queue.backlog gauge keeps its last value")]
    public static partial void BacklogUnread(ILogger logger, Exception exception, string queue);
}
