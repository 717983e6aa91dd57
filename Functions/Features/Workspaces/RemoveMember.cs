using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class RemoveMember
{
    public static async Task<IResult> HandleAsync(string userId, Caller caller, WorkspaceContext workspace, WorkspaceDirectory directory, CancellationToken cancellationToken)
    {
        var target = await directory.GetMemberAsync(workspace.WorkspaceId, userId, cancellationToken);
        if (target is null)
        {
            return Api.NotFound("The member was not found.");
        }

        var leaving = userId == caller.UserId;
        var targetRole = WorkspaceRoles.Parse(target.Role) ?? WorkspaceRole.Viewer;
        if (!leaving && (workspace.Role < WorkspaceRole.Admin || targetRole > workspace.Role))
        {
            return Api.Forbidden("Only an admin can remove others, and only members whose role is not above their own.");
        }

        if (targetRole == WorkspaceRole.Owner && await directory.CountOwnersAsync(workspace.WorkspaceId, 2, cancellationToken) == 1)
        {
            return Api.Conflict("A workspace keeps at least one owner; make someone else owner first.");
        }

        await directory.RemoveMemberAsync(workspace.WorkspaceId, userId, cancellationToken);
        return Api.NoContent();
    }
}
