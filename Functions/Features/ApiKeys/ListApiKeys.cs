using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.ApiKeys;

internal static class ListApiKeys
{
    public static async Task<IResult> HandleAsync(Caller caller, ListQuery query, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        var list = keys.List;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        // A key sees only the keys of its own workspace.
        var request = new ListRequest<ApiKeyRecord>
        {
            Filters = caller.BoundWorkspaceId is { } bound ? [("workspace", bound)] : [],
        };
        return await IndexedPaging.PageAsync(list, caller.UserId, query, request, cancellationToken) is { } page
            ? Api.Page(page.Map(ApiKeyDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
