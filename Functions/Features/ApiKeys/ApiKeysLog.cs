namespace Serverless.Functions.Features.ApiKeys;

/// <summary>Audit events of the API keys feature (EventIds 250-269).</summary>
internal static partial class ApiKeysLog
{
    [LoggerMessage(EventId = 250, Level = LogLevel.Information, Message = "API key {KeyId} ({Prefix}) created by user {UserId} for workspace {WorkspaceId}")]
    public static partial void Created(ILogger logger, string keyId, string prefix, string userId, string workspaceId);

    [LoggerMessage(EventId = 251, Level = LogLevel.Information, Message = "API key {KeyId} of user {UserId} revoked")]
    public static partial void Revoked(ILogger logger, string keyId, string userId);
}
