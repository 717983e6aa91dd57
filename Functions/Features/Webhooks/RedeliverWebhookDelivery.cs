using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class RedeliverWebhookDelivery
{
    public static async Task<IResult> HandleAsync(
        string id, string deliveryId, WorkspaceContext workspace, WebhookStore store, WebhookDeliveries deliveries, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return GetWebhook.NotFound();
        }

        return await deliveries.RedeliverAsync(workspace.WorkspaceId, id, deliveryId, cancellationToken) is { } delivery
            ? Api.Accepted(DeliveryDto.From(delivery))
            : Api.NotFound("The delivery was not found.");
    }
}
