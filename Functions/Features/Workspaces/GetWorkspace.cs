using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class GetWorkspace
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, WorkspaceDirectory directory, CancellationToken cancellationToken) =>
        await directory.GetAsync(workspace.WorkspaceId, cancellationToken) is { } found
            ? Api.Ok(WorkspaceDto.From(found, workspace.Role))
            : Api.NotFound("The workspace was not found.");
}
