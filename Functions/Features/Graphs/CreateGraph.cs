using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Graphs;

/// <summary><c>POST /api/v1/graphs</c>: a workflow from AutoGPT's graph shape, created and checked as any workflow is.</summary>
internal static class CreateGraph
{
    public static async Task<IResult> HandleAsync(
        GraphRequest request, Caller caller, WorkspaceContext workspace, WorkflowStore workflows, DefinitionValidator validator, NodeRegistry registry,
        CancellationToken cancellationToken)
    {
        var graph = request.Body;
        var workflow = new CreateWorkflow.Request(graph.Name, graph.Description, graph.LifecycleStatus, graph.IsTemplate, graph.Definition(registry), graph.InputSchema);
        var (created, error) = await CreateWorkflow.CreateAsync(workflow, caller, workspace, workflows, validator, cancellationToken);
        return error ?? Api.Created(GraphDto.From(created!), $"/api/v1/graphs/{created!.Id}");
    }
}
