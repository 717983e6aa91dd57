namespace Serverless.Functions.Features.Store;

internal static partial class StoreLog
{
    [LoggerMessage(EventId = 2400, Level = LogLevel.Information, Message = "Store submission {SubmissionId} for slug {Slug} by user {UserId}")]
    public static partial void Submitted(ILogger logger, string submissionId, string slug, string userId);

    [LoggerMessage(EventId = 2401, Level = LogLevel.Information, Message = "Store submission {SubmissionId} {Decision} by admin {AdminId}")]
    public static partial void Reviewed(ILogger logger, string submissionId, string decision, string adminId);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Information, Message = "Store listing {ListingId} is now at version {Version}")]
    public static partial void Listed(ILogger logger, string listingId, int version);

    [LoggerMessage(EventId = 2403, Level = LogLevel.Information, Message = "Store listing {ListingId} added to workspace {WorkspaceId} as workflow {WorkflowId}")]
    public static partial void Added(ILogger logger, string listingId, string workspaceId, string workflowId);

    [LoggerMessage(EventId = 2404, Level = LogLevel.Warning, Message = "Store media upload by user {UserId} refused: {Reason}")]
    public static partial void MediaRefused(ILogger logger, string userId, string reason);

    [LoggerMessage(EventId = 2405, Level = LogLevel.Warning, Message = "Run {RunId} of store listing {ListingId} could not be counted")]
    public static partial void RunNotCounted(ILogger logger, Exception exception, string runId, string listingId);
}
