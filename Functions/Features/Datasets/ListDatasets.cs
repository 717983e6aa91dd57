using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class ListDatasets
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, DatasetStore store, CancellationToken cancellationToken)
    {
        var list = store.List;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        return await IndexedPaging.PageAsync(list, workspace.WorkspaceId, query, null, cancellationToken) is { } page
            ? Api.Page(page.Map(DatasetDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
