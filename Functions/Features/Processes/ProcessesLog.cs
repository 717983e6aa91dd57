namespace Serverless.Functions.Features.Processes;

/// <summary>Events of the processes feature (EventIds 780-799). Never inputs or event data.</summary>
internal static partial class ProcessesLog
{
    [LoggerMessage(EventId = 780, Level = LogLevel.Information, Message = "Process {ProcessId} ({Source}) started run {ExecutionId}")]
    public static partial void Started(ILogger logger, string processId, string source, string executionId);

    [LoggerMessage(EventId = 781, Level = LogLevel.Warning, Message = "Process {ProcessId} ({Source}) could not start workflow {WorkflowId}: {Status}")]
    public static partial void NotStarted(ILogger logger, string processId, string source, string workflowId, int status);

    [LoggerMessage(EventId = 782, Level = LogLevel.Debug, Message = "Slot {Slot:o} of process {ProcessId} was taken by another instance")]
    public static partial void SlotTaken(ILogger logger, string processId, DateTimeOffset slot);

    [LoggerMessage(EventId = 783, Level = LogLevel.Debug, Message = "Event {EventId} already started process {ProcessId}")]
    public static partial void EventTaken(ILogger logger, string processId, string eventId);
}
