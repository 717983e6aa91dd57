namespace Serverless.Functions.Features.Credits;

/// <summary>Credit events (EventIds 2200-2219).</summary>
internal static partial class CreditsLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Credits of user {UserId} adjusted by {Amount} ({Type}) by {ActorId}; balance {Balance}")]
    public static partial void Adjusted(ILogger logger, string userId, long amount, string type, string actorId, long balance);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "Model call refused for user {UserId}: {Needed} credits needed, {Available} available")]
    public static partial void Refused(ILogger logger, string userId, long needed, long available);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "Usage {UsageId} of user {UserId} cost {Cost} credits but only {Charged} could be charged (reserved {Reserved})")]
    public static partial void Clamped(ILogger logger, string usageId, string userId, long cost, long charged, long reserved);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Error, Message = "Settling the reservation {HoldId} of user {UserId} failed; it lapses on its own")]
    public static partial void SettleFailed(ILogger logger, Exception exception, string holdId, string userId);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Warning, Message = "Model call in workspace {WorkspaceId} has no one to pay for it (no user, no owner)")]
    public static partial void NoPayer(ILogger logger, string workspaceId);
}
