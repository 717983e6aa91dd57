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

/// <summary>What other features may know of a user; implemented by the identity feature.</summary>
internal interface IUserLookup
{
    Task<UserSummary?> FindByIdAsync(string userId, CancellationToken cancellationToken);

    Task<UserSummary?> FindByLoginAsync(string emailOrUsername, CancellationToken cancellationToken);
}

internal sealed record UserSummary(string Id, string? Email, string? Username, string? Name, string? Lastname, bool IsPlatformAdmin = false);
