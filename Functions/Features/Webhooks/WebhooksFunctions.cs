using Microsoft.Azure.Functions.Worker;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.Webhooks;

/// <summary>The webhooks feature's queue function (run by the Functions host, or standalone by the trigger host).</summary>
public sealed class WebhooksFunctions(IServiceProvider services)
{
    /// <summary>Makes one attempt of one webhook delivery; an HTTP failure is recorded and retried later, never thrown.</summary>
    [Function(nameof(DeliverWebhook))]
    public async Task DeliverWebhook(
        [QueueTrigger(WebhookDeliveryMessage.QueueName, Connection = TriggerFunctions.Connection)] string message, long dequeueCount, CancellationToken cancellationToken)
    {
        if (WebhookDeliveryMessage.Parse(message) is not { } delivery)
        {
            // A message that is not a delivery never becomes one; retrying it only delays its removal.
            WebhooksLog.Ignored(Logger, WebhookDeliveryMessage.QueueName);
            return;
        }

        await services.GetRequiredService<Webhooks.DeliverWebhook>().RunAsync(delivery, dequeueCount, cancellationToken);
    }

    private ILogger Logger => services.GetRequiredService<ILogger<WebhooksFunctions>>();
}
