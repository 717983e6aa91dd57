using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// The dataset's entries in the platform event log (<c>dataset.completed</c> per finished upload batch), oldest first.
/// The log is read forward from the cursor: event ids end in their batch's id, which begins with the time the batch
/// was accepted, so id order is that time's order and a page is one range scan of the dataset's ids.
/// </summary>
internal static class ListDatasetEvents
{
    private static readonly string[] SortFields = ["time"];

    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, DatasetStore store, PlatformEventLog events,
        CancellationToken cancellationToken)
    {
        if (query.Check(SortFields) is { } invalid)
        {
            return invalid;
        }

        if (query.SortBy is not null && query.Descending)
        {
            return Api.Validation("sortOrder", "Dataset events are listed oldest first only.");
        }

        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The dataset was not found.");
        }

        var prefix = DatasetBatches.EventIdPrefix(id);
        if (query.Page is { } number)
        {
            // As every list's page mode: counted up to a cap, past which the total is left out and hasMore tells.
            var (all, rest) = (await events.PageAsync(workspace.WorkspaceId, prefix, null, IndexedPaging.PageModeCap, cancellationToken))!.Value;
            var slice = all.Skip((number - 1) * query.Limit).Take(query.Limit).ToList();
            var more = rest is not null || number * (long)query.Limit < all.Count;
            return Api.Page(new PageResult<PlatformEvent>(slice, new Pagination(more, null, query.Limit), rest is null ? all.Count : null, number));
        }

        var after = query.Cursor is { } cursor ? PageCursor.Decode(cursor)?.Key : null;
        if (await events.PageAsync(workspace.WorkspaceId, prefix, after, query.Limit, cancellationToken) is not { } page)
        {
            return IndexedPaging.InvalidCursor();
        }

        var next = page.Next is { } last ? PageCursor.Encode(last, "") : null;
        return Api.Page(new PageResult<PlatformEvent>(page.Items, new Pagination(next is not null, next, query.Limit), null, null));
    }
}
