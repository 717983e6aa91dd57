using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Graphs;

internal static class GetGraph
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, WorkflowStore workflows, CancellationToken cancellationToken) =>
        await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } workflow
            ? Api.Ok(GraphDto.From(workflow.Value))
            : Api.NotFound("The graph was not found.");
}
