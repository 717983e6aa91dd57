using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Identity.Admin;

/// <summary><c>GET /api/v1/admin/users</c>: every platform user (<c>search</c> on email, username and name; cursor or page paging).</summary>
internal static class ListPlatformUsers
{
    public static async Task<IResult> HandleAsync(ListQuery query, UserDirectory users, CancellationToken cancellationToken)
    {
        if (query.Check() is { } invalid)
        {
            return invalid;
        }

        return await users.ListAsync(query, query.Search, cancellationToken) is { } page
            ? Api.Page(page.Map(AdminUserDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
