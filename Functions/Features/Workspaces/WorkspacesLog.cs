namespace Serverless.Functions.Features.Workspaces;

/// <summary>Audit events of the workspaces feature (EventIds 270-289).</summary>
internal static partial class WorkspacesLog
{
    [LoggerMessage(EventId = 270, Level = LogLevel.Information, Message = "User {UserId} joined workspace {WorkspaceId} as {Role}")]
    public static partial void MemberAdded(ILogger logger, string userId, string workspaceId, string role);

    [LoggerMessage(EventId = 271, Level = LogLevel.Information, Message = "User {UserId} left or was removed from workspace {WorkspaceId}")]
    public static partial void MemberRemoved(ILogger logger, string userId, string workspaceId);
}
