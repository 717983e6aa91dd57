using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class DeleteDataset
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, DatasetStore store, ILogger<DatasetStore> logger, CancellationToken cancellationToken)
    {
        if (!await store.DeleteAsync(workspace.WorkspaceId, id, cancellationToken))
        {
            return Api.NotFound("The dataset was not found.");
        }

        DatasetsLog.Deleted(logger, id, workspace.WorkspaceId);
        return Api.NoContent();
    }
}
