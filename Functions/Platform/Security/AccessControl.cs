using Microsoft.AspNetCore.Authorization;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Platform.Security;

/// <summary>Endpoint metadata: the scope an API key needs for this route.</summary>
internal sealed record ScopeRequirement(string Scope);

/// <summary>Endpoint metadata: the route acts in a workspace, with at least this role.</summary>
internal sealed record WorkspaceRequirement(WorkspaceRole MinimumRole, string? RouteParameter);

/// <summary>Endpoint metadata: only platform admins (AutoGPT's admin routes).</summary>
internal sealed record PlatformAdminRequirement;

internal static class AccessControlEndpoints
{
    /// <summary>Only a platform admin's session (or an API key of theirs that holds every scope) may call the route; others get 403.</summary>
    public static TBuilder RequirePlatformAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PlatformAdminRequirement());

    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ScopeRequirement(scope));

    /// <summary>The request acts in the workspace picked by X-Workspace-Id (default: personal; an API key: its own).</summary>
    public static TBuilder RequireWorkspace<TBuilder>(this TBuilder builder, WorkspaceRole minimumRole = WorkspaceRole.Viewer) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new WorkspaceRequirement(minimumRole, null));

    /// <summary>The request acts in the workspace named by a route parameter.</summary>
    public static TBuilder RequireWorkspaceFromRoute<TBuilder>(this TBuilder builder, string parameter, WorkspaceRole minimumRole = WorkspaceRole.Viewer) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new WorkspaceRequirement(minimumRole, parameter));
}

/// <summary>
/// Every endpoint needs a caller unless it allows anonymous access. Then scopes (API keys), then the
/// workspace: a workspace the caller is not a member of does not exist for them (404, never 403).
/// </summary>
internal sealed class AccessControlMiddleware(RequestDelegate next, IMembershipLookup memberships)
{
    public async Task InvokeAsync(HttpContext context)
    {
        // Routing's own rejection endpoints (405) are plain endpoints: they answer, they expose nothing.
        if (context.GetEndpoint() is not RouteEndpoint endpoint || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            await next(context);
            return;
        }

        if (context.Features.Get<Caller>() is not { } caller)
        {
            if (context.Features.Get<DisabledAccount>() is not null)
            {
                await ErrorWriter.WriteAsync(context, 403, ErrorCodes.Forbidden, DisabledAccount.Message);
                return;
            }

            context.Response.Headers.WWWAuthenticate = "Bearer";
            var presented = context.Request.Headers.Authorization.Count > 0 || context.Request.Headers.ContainsKey(PlatformAuthenticationHandler.ApiKeyHeader);
            await ErrorWriter.WriteAsync(context, 401, ErrorCodes.Unauthorized,
                presented ? "The credential is invalid or expired." : "Authentication is required: send Authorization: Bearer <token or API key> or X-API-Key.");
            return;
        }

        foreach (var requirement in endpoint.Metadata.GetOrderedMetadata<ScopeRequirement>())
        {
            if (!caller.HasScope(requirement.Scope))
            {
                await ErrorWriter.WriteAsync(context, 403, ErrorCodes.Forbidden, $"This API key lacks the scope '{requirement.Scope}'.");
                return;
            }
        }

        if (endpoint.Metadata.GetMetadata<PlatformAdminRequirement>() is not null && !caller.IsPlatformAdmin)
        {
            await ErrorWriter.WriteAsync(context, 403, ErrorCodes.Forbidden, "This route is for platform admins.");
            return;
        }

        if (endpoint.Metadata.GetMetadata<WorkspaceRequirement>() is { } workspace)
        {
            var workspaceId = PickWorkspace(context, caller, workspace);
            var role = workspaceId is null ? null : await memberships.GetRoleAsync(workspaceId, caller.UserId, context.RequestAborted);
            if (role is null)
            {
                await ErrorWriter.WriteAsync(context, 404, ErrorCodes.NotFound, "The workspace was not found.");
                return;
            }

            if (role < workspace.MinimumRole)
            {
                await ErrorWriter.WriteAsync(context, 403, ErrorCodes.Forbidden, $"This needs the {workspace.MinimumRole.ToWire()} role in the workspace.");
                return;
            }

            context.Features.Set(new WorkspaceContext(workspaceId!, role.Value));
        }

        await next(context);
    }

    private static string? PickWorkspace(HttpContext context, Caller caller, WorkspaceRequirement requirement)
    {
        var asked = requirement.RouteParameter is { } parameter
            ? context.Request.RouteValues[parameter] as string
            : context.Request.Headers[WorkspaceContext.Header].ToString();
        if (string.IsNullOrEmpty(asked))
        {
            return caller.BoundWorkspaceId ?? caller.PersonalWorkspaceId;
        }

        // A key is bound to its workspace: any other id is, for it, a workspace that does not exist.
        return caller.BoundWorkspaceId is { } bound && !string.Equals(bound, asked, StringComparison.Ordinal) ? null : asked;
    }
}
