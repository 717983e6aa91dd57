using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class GetApp
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, AppStore apps, CancellationToken cancellationToken) =>
        await apps.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } app ? Api.Ok(AppDto.From(app.Value)) : Api.NotFound("The app was not found.");
}
