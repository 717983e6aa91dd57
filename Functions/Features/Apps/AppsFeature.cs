using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class AppsFeature
{
    public static IServiceCollection AddApps(this IServiceCollection services)
    {
        services.AddSingleton<AppStore>();
        services.AddSingleton<AppFactory>();
        return services;
    }

    public static IEndpointRouteBuilder MapApps(this IEndpointRouteBuilder app)
    {
        var apps = app.MapGroup("/api/v1/apps").WithTags("Apps");
        apps.MapGet("/", ListApps.HandleAsync).WithName("ListApps")
            .WithSummary("List apps (filter status, type; search; sort; paginate)")
            .RequireScope(Scopes.AppsRead).RequireWorkspace().Returns<IReadOnlyList<AppDto>>().Errors(422);
        apps.MapPost("/", CreateApp.HandleAsync).WithName("CreateApp")
            .WithSummary("Create an app: workflow (with its own workflow), chatbot or agent")
            .RequireScope(Scopes.AppsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<AppDto>(201).Errors(403, 422);
        apps.MapPost("/import", ImportApp.HandleAsync).WithName("ImportApp")
            .WithSummary("Create an app from an exported bundle")
            .RequireScope(Scopes.AppsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<AppDto>(201).Errors(422);
        apps.MapGet("/{id}", GetApp.HandleAsync).WithName("GetApp")
            .WithSummary("Read an app").RequireScope(Scopes.AppsRead).RequireWorkspace().Returns<AppDto>().Errors(404);
        apps.MapPut("/{id}", UpdateApp.HandleAsync).WithName("UpdateApp")
            .WithSummary("Change any of name, description, status, config, tags")
            .RequireScope(Scopes.AppsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<AppDto>().Errors(404, 422);
        apps.MapDelete("/{id}", DeleteApp.HandleAsync).WithName("DeleteApp")
            .WithSummary("Delete an app and its workflow").RequireScope(Scopes.AppsWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);
        apps.MapPost("/{id}/clone", CloneApp.HandleAsync).WithName("CloneApp")
            .WithSummary("Copy an app (and its workflow) as a new draft")
            .RequireScope(Scopes.AppsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<AppDto>(201).Errors(404);
        apps.MapGet("/{id}/export", ExportApp.HandleAsync).WithName("ExportApp")
            .WithSummary("The app as a JSON bundle, including its workflow")
            .RequireScope(Scopes.AppsRead).RequireWorkspace().WithRateLimitClass(RateLimitClass.Export).Returns<AppBundle>().Errors(404);
        return app;
    }
}
