using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Graphs;

/// <summary><c>PUT /api/v1/graphs/{id}</c>: new nodes or links make a new version, as <c>PUT /api/v1/workflows/{id}</c> does.</summary>
internal static class UpdateGraph
{
    public static async Task<IResult> HandleAsync(
        string id, GraphRequest request, Caller caller, WorkspaceContext workspace, WorkflowStore workflows, DefinitionValidator validator, NodeRegistry registry,
        CancellationToken cancellationToken)
    {
        var graph = request.Body;
        var change = new UpdateWorkflow.Request(graph.Name, graph.Description, graph.LifecycleStatus, graph.IsTemplate, graph.Definition(registry), graph.InputSchema);
        var (updated, error) = await UpdateWorkflow.UpdateAsync(id, change, caller, workspace, workflows, validator, cancellationToken);
        return error ?? Api.Ok(GraphDto.From(updated!));
    }
}
