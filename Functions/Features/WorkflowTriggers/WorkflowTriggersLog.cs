namespace Serverless.Functions.Features.WorkflowTriggers;

/// <summary>Events of the workflow triggers feature (EventIds 760-779). Never request bodies or secrets.</summary>
internal static partial class WorkflowTriggersLog
{
    [LoggerMessage(EventId = 760, Level = LogLevel.Information, Message = "Schedule trigger {TriggerId} of workflow {WorkflowId} fired slot {Slot:o} as run {ExecutionId}")]
    public static partial void Fired(ILogger logger, string triggerId, string workflowId, DateTimeOffset slot, string executionId);

    [LoggerMessage(EventId = 761, Level = LogLevel.Warning, Message = "Schedule trigger {TriggerId} of workflow {WorkflowId} could not start a run for slot {Slot:o}: {Status}")]
    public static partial void NotStarted(ILogger logger, string triggerId, string workflowId, DateTimeOffset slot, int status);

    [LoggerMessage(EventId = 762, Level = LogLevel.Debug, Message = "Slot {Slot:o} of schedule trigger {TriggerId} was taken by another instance")]
    public static partial void AlreadyClaimed(ILogger logger, string triggerId, DateTimeOffset slot);

    [LoggerMessage(EventId = 763, Level = LogLevel.Information, Message = "Webhook trigger {TriggerId} of workflow {WorkflowId} started run {ExecutionId}")]
    public static partial void HookStarted(ILogger logger, string triggerId, string workflowId, string executionId);
}
