using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class CloneApp
{
    internal sealed record Request(string? Name);

    public static async Task<IResult> HandleAsync(
        string id, Request? request, Caller caller, WorkspaceContext workspace, AppStore apps, WorkflowStore workflows, AppFactory factory, CancellationToken cancellationToken)
    {
        if (await apps.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } source)
        {
            return Api.NotFound("The app was not found.");
        }

        var app = source.Value;
        var workflow = await ExportApp.WorkflowOfAsync(app, workflows, cancellationToken);
        var (clone, error) = await factory.CreateAsync(workspace.WorkspaceId, caller.UserId, request?.Name ?? $"{app.Name} (copy)", app.Description, app.Type,
            AppStatus.Draft, app.Config, app.Tags, workflow, cancellationToken);
        return error ?? Api.Created(AppDto.From(clone!), $"/api/v1/apps/{clone!.Id}");
    }
}
