using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class DeleteApp
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, AppStore apps, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        if (await apps.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } app)
        {
            return Api.NotFound("The app was not found.");
        }

        // The app goes first: a crash in between leaves an unowned workflow, never an app without its workflow.
        await apps.DeleteAsync(app.Value, cancellationToken);
        if (app.Value.WorkflowId is { } workflowId && await workflows.GetAsync(workspace.WorkspaceId, workflowId, cancellationToken) is { } workflow)
        {
            await workflows.DeleteAsync(workflow.Value, cancellationToken);
        }

        return Api.NoContent();
    }
}
