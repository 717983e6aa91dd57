using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class ListWebhookDeliveries
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, WebhookStore store, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return GetWebhook.NotFound();
        }

        var list = store.Deliveries;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (query.Status is { } status && !DeliveryStatus.All.Contains(status))
        {
            return Api.Validation("status", $"status must be one of {string.Join(", ", DeliveryStatus.All)}.");
        }

        return await IndexedPaging.PageAsync(list, WebhookStore.DeliveryPartition(workspace.WorkspaceId, id), query, new ListRequest<DeliveryRecord>(), cancellationToken) is { } page
            ? Api.Page(page.Map(DeliveryDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
