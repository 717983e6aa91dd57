using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class ListWorkspaces
{
    public static async Task<IResult> HandleAsync(Caller caller, ListQuery query, WorkspaceDirectory directory, CancellationToken cancellationToken)
    {
        if (query.Check(directory.UserWorkspaceSortFields) is { } invalid)
        {
            return invalid;
        }

        // A key bound to a workspace lists that one alone.
        return await directory.ListForUserAsync(caller.UserId, caller.BoundWorkspaceId, query, cancellationToken) is { } page
            ? Api.Page(page.Map(m => WorkspaceDto.From(m.Workspace, m.Role)))
            : IndexedPaging.InvalidCursor();
    }
}
