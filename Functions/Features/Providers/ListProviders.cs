using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

internal static class ListProviders
{
    private static readonly ListShape<ProviderDto> Shape = new(
        p => p.Id,
        new Dictionary<string, Func<ProviderDto, string>>
        {
            ["priority"] = p => p.Priority.ToString("D4", System.Globalization.CultureInfo.InvariantCulture) + p.CreatedAt.UtcDateTime.ToString("O"),
            ["name"] = p => p.Name,
            ["createdAt"] = p => p.CreatedAt.UtcDateTime.ToString("O"),
        },
        "priority",
        DefaultDescending: false,
        Matches: (p, s) => p.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || p.Models.Any(m => m.Id.Contains(s, StringComparison.OrdinalIgnoreCase)),
        Status: p => p.Kind);

    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, ProviderStore providers, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        var all = await providers.ListAsync(workspace.WorkspaceId, cancellationToken);
        return Api.Page(Paging.Paginate(all.Select(ProviderDto.From), query, Shape));
    }
}
