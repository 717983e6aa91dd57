using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class GetDataset
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, DatasetStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } dataset ? Api.Ok(DatasetDto.From(dataset)) : Api.NotFound("The dataset was not found.");
}
