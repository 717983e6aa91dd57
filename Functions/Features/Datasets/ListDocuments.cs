using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class ListDocuments
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, DatasetStore store, CancellationToken cancellationToken)
    {
        var list = store.Documents;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (query.Status is { } status && !DocumentStatus.All.Contains(status))
        {
            return Api.Validation("status", $"status must be one of {string.Join(", ", DocumentStatus.All)}.");
        }

        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The dataset was not found.");
        }

        return await IndexedPaging.PageAsync(list, DatasetStore.DocumentPartition(workspace.WorkspaceId, id), query, null, cancellationToken) is { } page
            ? Api.Page(page.Map(DocumentDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
