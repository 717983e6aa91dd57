using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class ListWorkspaces
{
    private static readonly ListShape<WorkspaceDto> Shape = new(
        w => w.Id,
        new Dictionary<string, Func<WorkspaceDto, string>>
        {
            ["createdAt"] = w => w.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = w => w.Name.ToLowerInvariant(),
        },
        "createdAt",
        DefaultDescending: false,
        Matches: (w, s) => w.Name.Contains(s, StringComparison.OrdinalIgnoreCase));

    public static async Task<IResult> HandleAsync(Caller caller, ListQuery query, WorkspaceDirectory directory, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        var mine = await directory.ListForUserAsync(caller.UserId, cancellationToken);
        var visible = mine
            .Where(m => caller.BoundWorkspaceId is null || m.Workspace.Id == caller.BoundWorkspaceId)
            .Select(m => WorkspaceDto.From(m.Workspace, m.Role));
        return Api.Page(Paging.Paginate(visible, query, Shape));
    }
}
