namespace Serverless.Functions.Platform.Security;

/// <summary>Resolves an API key secret to its caller; implemented by the API keys feature.</summary>
internal interface IApiKeyAuthenticator
{
    /// <summary>True when the presented string has the shape of one of our keys (so it is not tried as a JWT).</summary>
    bool LooksLikeApiKey(string credential);

    ValueTask<Caller?> AuthenticateAsync(string secret, CancellationToken cancellationToken);
}

/// <summary>Answers a user's role in a workspace; implemented by the workspaces feature.</summary>
internal interface IMembershipLookup
{
    ValueTask<WorkspaceRole?> GetRoleAsync(string workspaceId, string userId, CancellationToken cancellationToken);
}

/// <summary>Whether a user is disabled by a platform admin; implemented by the identity feature, asked on every authenticated request.</summary>
internal interface IUserStatus
{
    ValueTask<bool> IsDisabledAsync(string userId, CancellationToken cancellationToken);
}

/// <summary>Set by authentication when a valid credential belongs to a disabled user, so the refusal can say why.</summary>
internal sealed record DisabledAccount
{
    public const string Message = "This account is disabled. Ask a platform admin to enable it.";
}

/// <summary>What other features may know of a user; implemented by the identity feature.</summary>
internal interface IUserLookup
{
    Task<UserSummary?> FindByIdAsync(string userId, CancellationToken cancellationToken);

    Task<UserSummary?> FindByLoginAsync(string emailOrUsername, CancellationToken cancellationToken);
}

internal sealed record UserSummary(string Id, string? Email, string? Username, string? Name, string? Lastname, bool IsPlatformAdmin = false);
