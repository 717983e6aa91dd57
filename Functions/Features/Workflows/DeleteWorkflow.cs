using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class DeleteWorkflow
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } workflow)
        {
            return Api.NotFound("The workflow was not found.");
        }

        if (workflow.Value.AppId is not null)
        {
            return Api.Conflict("This workflow belongs to an app; delete the app instead.");
        }

        // Runs keep their own copy of the definition, so deleting the workflow leaves past and running runs intact.
        await workflows.DeleteAsync(workflow.Value, cancellationToken);
        return Api.NoContent();
    }
}
