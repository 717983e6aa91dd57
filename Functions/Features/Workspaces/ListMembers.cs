using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class ListMembers
{
    private static readonly ListShape<MemberDto> Shape = new(
        m => m.UserId,
        new Dictionary<string, Func<MemberDto, string>>
        {
            ["joinedAt"] = m => m.JoinedAt.UtcDateTime.ToString("O"),
            ["role"] = m => m.Role,
        },
        "joinedAt",
        DefaultDescending: false,
        Matches: (m, s) => (m.Email ?? "").Contains(s, StringComparison.OrdinalIgnoreCase)
            || (m.Username ?? "").Contains(s, StringComparison.OrdinalIgnoreCase)
            || (m.Name ?? "").Contains(s, StringComparison.OrdinalIgnoreCase),
        Status: m => m.Role);

    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WorkspaceDirectory directory, IUserLookup users, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        var members = new List<MemberDto>();
        foreach (var member in await directory.ListMembersAsync(workspace.WorkspaceId, cancellationToken))
        {
            members.Add(await ToDtoAsync(member, users, cancellationToken));
        }

        return Api.Page(Paging.Paginate(members, query, Shape));
    }

    internal static async Task<MemberDto> ToDtoAsync(MemberRecord member, IUserLookup users, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(member.UserId, cancellationToken);
        return new MemberDto(member.UserId, user?.Email, user?.Username, user?.Name, member.Role, member.JoinedAt);
    }
}
