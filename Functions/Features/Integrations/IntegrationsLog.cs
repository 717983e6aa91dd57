namespace Serverless.Functions.Features.Integrations;

/// <summary>Events of the integrations feature (EventIds 860-879). Never a secret, never a request or answer body.</summary>
internal static partial class IntegrationsLog
{
    [LoggerMessage(EventId = 860, Level = LogLevel.Information, Message = "Credential {CredentialId} ({Provider}) stored in workspace {WorkspaceId}")]
    public static partial void Created(ILogger logger, string credentialId, string provider, string workspaceId);

    [LoggerMessage(EventId = 861, Level = LogLevel.Information, Message = "Credential {CredentialId} of workspace {WorkspaceId} updated (secret replaced: {Rotated})")]
    public static partial void Updated(ILogger logger, string credentialId, string workspaceId, bool rotated);

    [LoggerMessage(EventId = 862, Level = LogLevel.Information, Message = "Credential {CredentialId} deleted from workspace {WorkspaceId}")]
    public static partial void Deleted(ILogger logger, string credentialId, string workspaceId);

    [LoggerMessage(EventId = 863, Level = LogLevel.Information, Message = "Credential {CredentialId} of workspace {WorkspaceId} tested: ok {Ok}, status {StatusCode}, {LatencyMs} ms")]
    public static partial void Tested(ILogger logger, string credentialId, string workspaceId, bool ok, int? statusCode, long latencyMs);

    [LoggerMessage(EventId = 864, Level = LogLevel.Warning, Message = "Credential {CredentialId} of workspace {WorkspaceId} marked expired: {Reason}")]
    public static partial void Expired(ILogger logger, string credentialId, string workspaceId, string reason);

    [LoggerMessage(EventId = 865, Level = LogLevel.Warning, Message = "Credential {CredentialId} of workspace {WorkspaceId} was not attached to a request for {Host}: it is bound to other hosts")]
    public static partial void HostRefused(ILogger logger, string credentialId, string workspaceId, string host);

    [LoggerMessage(EventId = 866, Level = LogLevel.Error, Message = "Credential {CredentialId} of workspace {WorkspaceId} cannot be unsealed (the secret-protection key changed?)")]
    public static partial void Unreadable(ILogger logger, string credentialId, string workspaceId);

    [LoggerMessage(EventId = 867, Level = LogLevel.Warning, Message = "Could not record credential.expired for credential {CredentialId}")]
    public static partial void ExpiryAlarmFailed(ILogger logger, Exception exception, string credentialId);
}
