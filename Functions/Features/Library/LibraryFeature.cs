using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Library;

internal static class LibraryFeature
{
    public static IServiceCollection AddLibrary(this IServiceCollection services) => services.AddSingleton<LibraryStore>();

    public static IEndpointRouteBuilder MapLibrary(this IEndpointRouteBuilder app)
    {
        var agents = app.MapGroup("/api/v1/library/agents").WithTags("Library");
        agents.MapGet("/", ListLibraryAgents.HandleAsync).WithName("ListLibraryAgents")
            .WithSummary("The workspace's saved agents (status=favorite|saved)").RequireScope(Scopes.WorkflowsRead).RequireWorkspace()
            .Returns<IReadOnlyList<LibraryAgentDto>>().Errors(422);
        agents.MapPost("/", CreateLibraryAgent.HandleAsync).WithName("CreateLibraryAgent")
            .WithSummary("Save a workflow (optionally a pinned version) to the library").RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member)
            .Returns<LibraryAgentDto>(201).Errors(404, 422);
        agents.MapGet("/{id}", GetLibraryAgent.HandleAsync).WithName("GetLibraryAgent")
            .WithSummary("Read a library agent").RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<LibraryAgentDto>().Errors(404);
        agents.MapPut("/{id}", UpdateLibraryAgent.HandleAsync).WithName("UpdateLibraryAgent")
            .WithSummary("Change any of name, description, isFavorite, workflowVersion").RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member)
            .Returns<LibraryAgentDto>().Errors(404, 422);
        agents.MapDelete("/{id}", DeleteLibraryAgent.HandleAsync).WithName("DeleteLibraryAgent")
            .WithSummary("Remove an agent from the library (the workflow stays)").RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member)
            .Produces(204).Errors(404);

        var presets = app.MapGroup("/api/v1/library/presets").WithTags("Library");
        presets.MapGet("/", ListPresets.HandleAsync).WithName("ListPresets")
            .WithSummary("Saved input sets (filter workflowId)").RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<PresetDto>>().Errors(422);
        presets.MapPost("/", CreatePreset.HandleAsync).WithName("CreatePreset")
            .WithSummary("Save inputs for a workflow").RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member)
            .Returns<PresetDto>(201).Errors(404, 422);
        presets.MapGet("/{id}", GetPreset.HandleAsync).WithName("GetPreset")
            .WithSummary("Read a preset").RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<PresetDto>().Errors(404);
        presets.MapPut("/{id}", UpdatePreset.HandleAsync).WithName("UpdatePreset")
            .WithSummary("Change any of name, description, inputs, workflowVersion").RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member)
            .Returns<PresetDto>().Errors(404, 422);
        presets.MapDelete("/{id}", DeletePreset.HandleAsync).WithName("DeletePreset")
            .WithSummary("Delete a preset").RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);
        presets.MapPost("/{id}/execute", ExecutePreset.HandleAsync).WithName("ExecutePreset")
            .WithSummary("Run the preset's workflow with its inputs (given inputs override); 202 with the execution id")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ExecutionAcceptedDto>(202).Errors(404, 409, 422, 429);
        return app;
    }
}
