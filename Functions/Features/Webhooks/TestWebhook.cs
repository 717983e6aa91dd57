using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

internal static class TestWebhook
{
    internal sealed record Reply(string DeliveryId, string EventId);

    /// <summary>
    /// Records a <c>webhook.test</c> event addressed to this webhook alone and creates its delivery at once (the event's
    /// dispatch finds it there), so the reply can name the delivery to follow.
    /// </summary>
    public static async Task<IResult> HandleAsync(
        string id, Caller caller, WorkspaceContext workspace, WebhookStore store, WebhookDeliveries deliveries, PlatformEventLog events,
        CancellationToken cancellationToken)
    {
        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } webhook)
        {
            return GetWebhook.NotFound();
        }

        var eventId = $"{PlatformEventTypes.WebhookTest}:{id}:{Guid.CreateVersion7():N}";
        var payload = new JsonObject { ["webhookId"] = id, ["requestedBy"] = caller.UserId, ["message"] = "This is a test delivery." };
        await events.AppendOnceAsync(workspace.WorkspaceId, eventId, PlatformEventTypes.WebhookTest, payload, cancellationToken);
        var recorded = await events.GetAsync(workspace.WorkspaceId, eventId, cancellationToken)
            ?? throw new InvalidOperationException("The test event was recorded but cannot be read back.");
        var deliveryId = await deliveries.CreateAsync(workspace.WorkspaceId, webhook, recorded, manual: true, cancellationToken);
        return Api.Accepted(new Reply(deliveryId, eventId));
    }
}
