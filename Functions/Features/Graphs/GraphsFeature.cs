using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Graphs;

/// <summary>
/// AutoGPT's graph shape over our workflows: the builder's graph routes under <c>/api/v1/graphs</c> and the external API's
/// <c>GET /v1/graphs</c> and <c>POST /v1/graphs/{id}/execute</c>. Workflows are created, changed and run by the workflow
/// feature's own code; this feature only converts (<see cref="GraphShape"/>).
/// </summary>
internal static class GraphsFeature
{
    public static IEndpointRouteBuilder MapGraphs(this IEndpointRouteBuilder app)
    {
        var graphs = app.MapGroup("/api/v1/graphs").WithTags("Graphs");
        graphs.MapGet("/", ListGraphs.HandleAsync).WithName("ListGraphs")
            .WithSummary("The workflows in AutoGPT's graph shape {id, version, name, description, is_active, nodes, links} (paged like workflows)")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<GraphDto>>().Errors(422);
        graphs.MapPost("/", CreateGraph.HandleAsync).WithName("CreateGraph")
            .WithSummary("Create a workflow from AutoGPT's graph shape (bare or as {graph}); nodes[{id, block_id, input_default, metadata}], links[{source_id, sink_id, source_name, sink_name}]")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<GraphDto>(201).Errors(403, 422);
        graphs.MapGet("/{id}", GetGraph.HandleAsync).WithName("GetGraph")
            .WithSummary("A workflow in AutoGPT's graph shape")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<GraphDto>().Errors(404);
        graphs.MapPut("/{id}", UpdateGraph.HandleAsync).WithName("UpdateGraph")
            .WithSummary("Change a workflow from AutoGPT's graph shape; new nodes or links make a new version")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<GraphDto>().Errors(404, 409, 422);
        graphs.MapPost("/{id}/execute", ExecuteGraph.HandleAsync).WithName("ExecuteGraph")
            .WithSummary("Start a run: {inputs, graph_version?} or the inputs themselves → 202 {id, graph_exec_id, graph_id, graph_version, status}")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ExecuteGraph.Response>(202).Errors(404, 409, 422, 429);

        var external = app.MapGroup(OpenAiErrors.PathPrefix + "/graphs").WithTags("Graphs");
        external.MapGet("/", ListGraphs.HandleExternalAsync).WithName("ListExternalGraphs")
            .WithSummary("AutoGPT's external API: the workspace's graphs as a bare list, newest first (X-API-Key with workflows:read; limit, cursor or page)")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Produces<IReadOnlyList<GraphDto>>();
        external.MapPost("/{id}/execute", ExecuteGraph.HandleExternalAsync).WithName("ExecuteExternalGraph")
            .WithSummary("AutoGPT's external API: start a run ({inputs, graph_version?} or the inputs themselves) → 200 {id, graph_exec_id, graph_id, graph_version, status}")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Produces<ExecuteGraph.Response>();
        return app;
    }
}
