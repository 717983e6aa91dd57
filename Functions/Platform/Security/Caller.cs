using Serverless.Functions.Platform.Ai;

namespace Serverless.Functions.Platform.Security;

internal enum WorkspaceRole
{
    Viewer = 0,
    Member = 1,
    Admin = 2,
    Owner = 3,
}

internal static class WorkspaceRoles
{
    public static string ToWire(this WorkspaceRole role) => role switch
    {
        WorkspaceRole.Owner => "owner",
        WorkspaceRole.Admin => "admin",
        WorkspaceRole.Member => "member",
        _ => "viewer",
    };

    public static WorkspaceRole? Parse(string? value) => value switch
    {
        "owner" => WorkspaceRole.Owner,
        "admin" => WorkspaceRole.Admin,
        "member" => WorkspaceRole.Member,
        "viewer" => WorkspaceRole.Viewer,
        _ => null,
    };
}

/// <summary>
/// Who is calling: a user session (JWT, every scope) or an API key (its scopes, bound to one workspace).
/// Set by the authentication handler; handlers take it as a parameter.
/// </summary>
internal sealed record Caller(
    string UserId,
    string PersonalWorkspaceId,
    bool IsPlatformAdmin,
    string? ApiKeyId,
    string? BoundWorkspaceId,
    IReadOnlySet<string>? KeyScopes,
    int? RateLimitPerMinute)
{
    public bool IsApiKey => ApiKeyId is not null;

    /// <summary>An API key's model allow-list and quotas; null for user sessions and keys without any.</summary>
    public ModelLimits? ModelLimits { get; init; }

    /// <summary>The id rate limits and idempotency records are kept under.</summary>
    public string PrincipalId => ApiKeyId is null ? "user:" + UserId : "key:" + ApiKeyId;

    public bool HasScope(string scope) => KeyScopes is null || KeyScopes.Contains(scope);

    public IEnumerable<string> EffectiveScopes => KeyScopes ?? Scopes.Names;

    public static ValueTask<Caller?> BindAsync(HttpContext context) => ValueTask.FromResult(context.Features.Get<Caller>());
}

/// <summary>The workspace a request acts in, resolved by access control from the key, X-Workspace-Id or the route.</summary>
internal sealed record WorkspaceContext(string WorkspaceId, WorkspaceRole Role)
{
    public const string Header = "X-Workspace-Id";

    public static ValueTask<WorkspaceContext?> BindAsync(HttpContext context) => ValueTask.FromResult(context.Features.Get<WorkspaceContext>());
}
