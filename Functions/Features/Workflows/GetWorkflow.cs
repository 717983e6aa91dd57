using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class GetWorkflow
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, WorkflowStore workflows, CancellationToken cancellationToken) =>
        await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } workflow
            ? Api.Ok(WorkflowDto.From(workflow.Value))
            : Api.NotFound("The workflow was not found.");
}
