using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Workspaces;

/// <summary><c>GET /api/v1/admin/workspaces</c>: every workspace on the platform (<c>search</c> on the name; cursor or page paging).</summary>
internal static class ListAllWorkspaces
{
    internal sealed record AdminWorkspaceDto(string Id, string Name, string? Description, bool IsPersonal, string OwnerId, DateTimeOffset CreatedAt)
    {
        public static AdminWorkspaceDto From(WorkspaceRecord w) => new(w.Id, w.Name, w.Description, w.IsPersonal, w.OwnerId, w.CreatedAt);
    }

    public static async Task<IResult> HandleAsync(ListQuery query, WorkspaceDirectory directory, CancellationToken cancellationToken)
    {
        if (query.Check() is { } invalid)
        {
            return invalid;
        }

        return await directory.ListAllAsync(query, query.Search, cancellationToken) is { } page
            ? Api.Page(page.Map(AdminWorkspaceDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
