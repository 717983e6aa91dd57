using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class GetDocument
{
    public static async Task<IResult> HandleAsync(string id, string docId, WorkspaceContext workspace, DatasetStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not null
        && await store.GetDocumentAsync(workspace.WorkspaceId, id, docId, cancellationToken) is { } document
            ? Api.Ok(DocumentDto.From(document))
            : Api.NotFound("The document was not found.");
}
