using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class WorkspacesFeature
{
    public static IServiceCollection AddWorkspaces(this IServiceCollection services)
    {
        services.AddSingleton<WorkspaceDirectory>();
        services.AddSingleton<IMembershipLookup>(sp => sp.GetRequiredService<WorkspaceDirectory>());
        return services;
    }

    public static IEndpointRouteBuilder MapWorkspaces(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces").WithTags("Workspaces");

        group.MapGet("/", ListWorkspaces.HandleAsync).WithName("ListWorkspaces")
            .WithSummary("List the workspaces the caller belongs to (an API key: its own)")
            .RequireScope(Scopes.WorkspacesRead).Returns<IReadOnlyList<WorkspaceDto>>();
        group.MapPost("/", CreateWorkspace.HandleAsync).WithName("CreateWorkspace")
            .WithSummary("Create a workspace; the caller becomes its owner")
            .RequireScope(Scopes.WorkspacesWrite).Returns<WorkspaceDto>(201).Errors(403, 422);
        group.MapGet("/{id}", GetWorkspace.HandleAsync).WithName("GetWorkspace")
            .WithSummary("Read a workspace the caller belongs to, with the caller's role in it")
            .RequireScope(Scopes.WorkspacesRead).RequireWorkspaceFromRoute("id").Returns<WorkspaceDto>().Errors(404);
        group.MapGet("/{id}/members", ListMembers.HandleAsync).WithName("ListWorkspaceMembers")
            .WithSummary("List a workspace's members")
            .RequireScope(Scopes.WorkspacesRead).RequireWorkspaceFromRoute("id").Returns<IReadOnlyList<MemberDto>>().Errors(404);
        group.MapPost("/{id}/members", AddMember.HandleAsync).WithName("AddWorkspaceMember")
            .WithSummary("Add a registered user to a workspace (admin or owner)")
            .RequireScope(Scopes.WorkspacesWrite).RequireWorkspaceFromRoute("id", WorkspaceRole.Admin)
            .Returns<MemberDto>(201).Errors(403, 404, 409, 422);
        group.MapDelete("/{id}/members/{userId}", RemoveMember.HandleAsync).WithName("RemoveWorkspaceMember")
            .WithSummary("Remove a member (admins remove others; anyone may leave)")
            .RequireScope(Scopes.WorkspacesWrite).RequireWorkspaceFromRoute("id")
            .Produces(204).Errors(403, 404, 409);

        app.MapGet("/api/v1/admin/workspaces", ListAllWorkspaces.HandleAsync).WithTags("Admin").WithName("ListAllWorkspaces")
            .WithSummary("Platform admins: every workspace (search on the name; cursor or page paging)")
            .RequirePlatformAdmin().Returns<IReadOnlyList<ListAllWorkspaces.AdminWorkspaceDto>>().Errors(403, 422);
        return app;
    }
}

internal sealed record WorkspaceDto(string Id, string Name, string? Description, string Role, bool IsPersonal, string OwnerId, DateTimeOffset CreatedAt)
{
    public static WorkspaceDto From(WorkspaceRecord w, WorkspaceRole role) => new(w.Id, w.Name, w.Description, role.ToWire(), w.IsPersonal, w.OwnerId, w.CreatedAt);
}

internal sealed record MemberDto(string UserId, string? Email, string? Username, string? Name, string Role, DateTimeOffset JoinedAt);
