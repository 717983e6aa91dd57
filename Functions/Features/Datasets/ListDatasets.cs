using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class ListDatasets
{
    private static readonly ListShape<DatasetDto> Shape = new(
        d => d.Id,
        new Dictionary<string, Func<DatasetDto, string>>
        {
            ["createdAt"] = d => d.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = d => d.UpdatedAt.UtcDateTime.ToString("O"),
            ["name"] = d => d.Name.ToLowerInvariant(),
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (d, s) => d.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || d.Description.Contains(s, StringComparison.OrdinalIgnoreCase),
        Status: null);

    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, DatasetStore store, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        var datasets = (await store.ListAsync(workspace.WorkspaceId, cancellationToken)).Select(DatasetDto.From);
        return Api.Page(Paging.Paginate(datasets, query, Shape));
    }
}
