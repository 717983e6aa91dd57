using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

/// <summary>The dataset's entries in the platform event log (<c>dataset.completed</c> per finished upload batch), oldest first.</summary>
internal static class ListDatasetEvents
{
    private static readonly ListShape<PlatformEvent> Shape = new(
        e => e.Id,
        new Dictionary<string, Func<PlatformEvent, string>> { ["time"] = e => e.Time.UtcDateTime.ToString("O") },
        "time",
        DefaultDescending: false);

    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, DatasetStore store, PlatformEventLog events,
        CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The dataset was not found.");
        }

        return Api.Page(Paging.Paginate(await events.ListAsync(workspace.WorkspaceId, DatasetBatches.EventIdPrefix(id), cancellationToken), query, Shape));
    }
}
