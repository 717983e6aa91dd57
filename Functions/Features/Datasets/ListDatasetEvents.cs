using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

/// <summary>The dataset's entries in the platform event log (<c>dataset.completed</c> per finished upload batch), oldest first.</summary>
internal static class ListDatasetEvents
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, DatasetStore store, PlatformEventLog events, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The dataset was not found.");
        }

        var mine = (await events.ListAsync(workspace.WorkspaceId, cancellationToken))
            .Where(e => e.Payload["datasetId"]?.GetValue<string>() == id)
            .ToList();
        return Api.Ok<IReadOnlyList<PlatformEvent>>(mine);
    }
}
