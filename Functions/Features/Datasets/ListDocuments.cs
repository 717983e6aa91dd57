using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class ListDocuments
{
    private static readonly ListShape<DocumentDto> Shape = new(
        d => d.Id,
        new Dictionary<string, Func<DocumentDto, string>>
        {
            ["createdAt"] = d => d.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = d => d.UpdatedAt.UtcDateTime.ToString("O"),
            ["title"] = d => d.Title.ToLowerInvariant(),
            ["status"] = d => d.Status,
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (d, s) => d.Title.Contains(s, StringComparison.OrdinalIgnoreCase) || d.Id.Contains(s, StringComparison.OrdinalIgnoreCase),
        Status: d => d.Status);

    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, DatasetStore store, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
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

        var documents = (await store.ListDocumentsAsync(workspace.WorkspaceId, id, cancellationToken)).Select(DocumentDto.From);
        return Api.Page(Paging.Paginate(documents, query, Shape));
    }
}
