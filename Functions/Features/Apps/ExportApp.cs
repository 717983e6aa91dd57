using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class ExportApp
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, AppStore apps, WorkflowStore workflows, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await apps.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } stored)
        {
            return Api.NotFound("The app was not found.");
        }

        var app = stored.Value;
        return Api.Ok(new AppBundle(AppBundle.FormatName, AppBundle.CurrentVersion, time.GetUtcNow(),
            new AppBundleApp(app.Name, app.Description, app.Type, app.Status, app.Config, app.Tags),
            await WorkflowOfAsync(app, workflows, cancellationToken)));
    }

    internal static async Task<WorkflowBundle?> WorkflowOfAsync(AppRecord app, WorkflowStore workflows, CancellationToken cancellationToken) =>
        app.WorkflowId is { } workflowId && (await workflows.GetAsync(app.WorkspaceId, workflowId, cancellationToken))?.Value is { } w
            ? new WorkflowBundle(w.Name, w.Description, w.Definition, w.InputsSchema)
            : null;
}
