namespace Serverless.Functions.Features.Identity;

/// <summary>Security events of the identity feature (EventIds 200-249).</summary>
internal static partial class IdentityLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "User {UserId} registered (platform admin: {IsPlatformAdmin})")]
    public static partial void Registered(ILogger logger, string userId, bool isPlatformAdmin);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "User {UserId} locked out until {LockedUntil} after repeated failed sign-ins")]
    public static partial void LockedOut(ILogger logger, string userId, DateTimeOffset lockedUntil);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Refresh token reuse for user {UserId}: session family {FamilyId} revoked")]
    public static partial void RefreshReuse(ILogger logger, string userId, string familyId);

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "Password of user {UserId} reset; every session ended")]
    public static partial void PasswordReset(ILogger logger, string userId);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Sign-in with provider {Provider} failed ({Error}): {Reason}")]
    public static partial void OAuthFailed(ILogger logger, string provider, string error, string reason);

    [LoggerMessage(EventId = 205, Level = LogLevel.Information, Message = "User {UserId} linked a {Provider} account")]
    public static partial void OAuthLinked(ILogger logger, string userId, string provider);

    [LoggerMessage(EventId = 220, Level = LogLevel.Warning, Message = "User {UserId} disabled by platform admin {AdminId}; every session ended")]
    public static partial void Disabled(ILogger logger, string userId, string adminId);

    [LoggerMessage(EventId = 221, Level = LogLevel.Information, Message = "User {UserId} enabled by platform admin {AdminId}")]
    public static partial void Enabled(ILogger logger, string userId, string adminId);
}
