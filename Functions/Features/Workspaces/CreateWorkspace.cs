using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class CreateWorkspace
{
    internal sealed record Request(string? Name, string? Description);

    public static async Task<IResult> HandleAsync(Request request, Caller caller, WorkspaceDirectory directory, CancellationToken cancellationToken)
    {
        if (caller.IsApiKey)
        {
            return Api.Forbidden("An API key is bound to one workspace; create workspaces from a user session.");
        }

        var check = new Validator().Require("name", request.Name, 100).MaxLength("description", request.Description, 1000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var workspace = await directory.CreateAsync(null, request.Name!.Trim(), request.Description, caller.UserId, personal: false, cancellationToken);
        return Api.Created(WorkspaceDto.From(workspace, WorkspaceRole.Owner), $"/api/v1/workspaces/{workspace.Id}");
    }
}
