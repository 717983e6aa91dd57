using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.ApiKeys;

internal static class ListApiKeys
{
    private static readonly ListShape<ApiKeyDto> Shape = new(
        k => k.Id,
        new Dictionary<string, Func<ApiKeyDto, string>>
        {
            ["createdAt"] = k => k.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = k => k.Name.ToLowerInvariant(),
            ["lastUsedAt"] = k => k.LastUsedAt?.UtcDateTime.ToString("O") ?? "",
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (k, s) => k.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || k.Prefix.Contains(s, StringComparison.Ordinal));

    public static async Task<IResult> HandleAsync(Caller caller, ListQuery query, ApiKeyStore keys, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        var all = await keys.ListAsync(caller.UserId, cancellationToken);
        // A key sees only the keys of its own workspace.
        var visible = all.Where(k => caller.BoundWorkspaceId is null || k.WorkspaceId == caller.BoundWorkspaceId).Select(ApiKeyDto.From);
        return Api.Page(Paging.Paginate(visible, query, Shape));
    }
}
