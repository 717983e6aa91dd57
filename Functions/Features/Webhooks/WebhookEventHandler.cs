using Serverless.Functions.Platform.Events;

namespace Serverless.Functions.Features.Webhooks;

/// <summary>
/// Turns a recorded platform event into one delivery per active webhook of the workspace that subscribed to it
/// (<c>webhook.test</c> only to the webhook it names). Dispatch is at least once; delivery ids come from the webhook
/// and the event, so hearing of an event again creates nothing new.
/// </summary>
internal sealed class WebhookEventHandler(WebhookStore store, WebhookDeliveries deliveries) : IPlatformEventHandler
{
    public async Task HandleAsync(PlatformEvent platformEvent, CancellationToken cancellationToken)
    {
        if (platformEvent.Type == PlatformEventTypes.WebhookTest)
        {
            var target = platformEvent.Payload["webhookId"]?.GetValue<string>();
            if (target is not null && await store.GetAsync(platformEvent.WorkspaceId, target, cancellationToken) is { } tested)
            {
                await deliveries.CreateAsync(platformEvent.WorkspaceId, tested, platformEvent, manual: true, cancellationToken);
            }

            return;
        }

        foreach (var webhook in await store.ListAsync(platformEvent.WorkspaceId, cancellationToken))
        {
            if (webhook.Active && webhook.Events.Contains(platformEvent.Type, StringComparer.Ordinal))
            {
                await deliveries.CreateAsync(platformEvent.WorkspaceId, webhook, platformEvent, manual: false, cancellationToken);
            }
        }
    }
}
