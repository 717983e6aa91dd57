using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class DeleteDocument
{
    public static async Task<IResult> HandleAsync(string id, string docId, WorkspaceContext workspace, DatasetStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not null
        && await store.DeleteDocumentAsync(workspace.WorkspaceId, id, docId, cancellationToken)
            ? Api.NoContent()
            : Api.NotFound("The document was not found.");
}
