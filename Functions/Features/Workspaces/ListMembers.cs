using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class ListMembers
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WorkspaceDirectory directory, IUserLookup users, CancellationToken cancellationToken)
    {
        var list = directory.Members;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        // Search matches the user's email, username or name, which live with the user: each listed member is looked up
        // once, while the page is read, and the page shows what was looked up.
        var found = new Dictionary<string, UserSummary?>(StringComparer.Ordinal);
        var request = new ListRequest<MemberRecord>
        {
            Resolve = async (member, ct) =>
            {
                var user = await users.FindByIdAsync(member.UserId, ct);
                found[member.UserId] = user;
                return query.Search is not { } search || Matches(user, search) ? member : null;
            },
        };
        // Roles are stored lowercase; status matched them ignoring case before they were indexed.
        return await IndexedPaging.PageAsync(list, workspace.WorkspaceId, query with { Status = query.Status?.ToLowerInvariant() }, request, cancellationToken) is { } page
            ? Api.Page(page.Map(m => ToDto(m, found[m.UserId])))
            : IndexedPaging.InvalidCursor();
    }

    internal static async Task<MemberDto> ToDtoAsync(MemberRecord member, IUserLookup users, CancellationToken cancellationToken) =>
        ToDto(member, await users.FindByIdAsync(member.UserId, cancellationToken));

    private static MemberDto ToDto(MemberRecord member, UserSummary? user) =>
        new(member.UserId, user?.Email, user?.Username, user?.Name, member.Role, member.JoinedAt);

    private static bool Matches(UserSummary? user, string search) =>
        (user?.Email ?? "").Contains(search, StringComparison.OrdinalIgnoreCase)
        || (user?.Username ?? "").Contains(search, StringComparison.OrdinalIgnoreCase)
        || (user?.Name ?? "").Contains(search, StringComparison.OrdinalIgnoreCase);
}
