using System.Text.Json;
using Serverless.Functions.Platform.Events;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Webhooks;

/// <summary>The message of the <c>webhook-deliveries</c> queue: make attempt <see cref="Attempt"/> of one delivery.</summary>
/// <param name="Manual">A test or a redelivery someone asked for: made even while the webhook is disabled.</param>
internal sealed record WebhookDeliveryMessage(string WorkspaceId, string WebhookId, string DeliveryId, int Attempt, bool Manual = false)
{
    public const string QueueName = "webhook-deliveries";

    public static WebhookDeliveryMessage? Parse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<WebhookDeliveryMessage>(text, JsonSerializerOptions.Web) is
                { WorkspaceId.Length: > 0, WebhookId.Length: > 0, DeliveryId.Length: > 0, Attempt: > 0 } message ? message : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public string ToText() => JsonSerializer.Serialize(this, JsonSerializerOptions.Web);
}

/// <summary>Creates deliveries (one per webhook and event) and queues their attempts.</summary>
internal sealed class WebhookDeliveries(WebhookStore store, IWorkQueue queue, TimeProvider time)
{
    /// <summary>
    /// The delivery of <paramref name="platformEvent"/> to <paramref name="webhook"/>, created and queued unless it
    /// exists. One that exists but never got its first attempt (its creator died before queueing it) is queued again;
    /// a duplicate message is fenced off by the attempt number.
    /// </summary>
    public async Task<string> CreateAsync(
        string workspaceId, WebhookRecord webhook, PlatformEvent platformEvent, bool manual, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = WebhookStore.DeliveryId(webhook.Id, platformEvent.Id);
        var delivery = new DeliveryRecord(id, webhook.Id, platformEvent.Id, platformEvent.Type, DeliveryStatus.Pending, 0, 1,
            null, null, null, null, now, now, now);
        var inserted = await store.InsertDeliveryAsync(workspaceId, delivery, cancellationToken);
        if (inserted.Succeeded
            || await store.GetDeliveryAsync(workspaceId, webhook.Id, id, cancellationToken) is { Status: DeliveryStatus.Pending, Attempt: 0 })
        {
            await EnqueueAsync(new WebhookDeliveryMessage(workspaceId, webhook.Id, id, 1, manual), null, cancellationToken);
        }

        return id;
    }

    /// <summary>Starts a new attempt now, with a retry series of its own; null when there is no such delivery.</summary>
    public async Task<DeliveryRecord?> RedeliverAsync(string workspaceId, string webhookId, string deliveryId, CancellationToken cancellationToken)
    {
        if (await store.GetDeliveryAsync(workspaceId, webhookId, deliveryId, cancellationToken) is null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var updated = await store.UpdateDeliveryAsync(workspaceId, webhookId, deliveryId, d => d with
        {
            Status = DeliveryStatus.Pending,
            SeriesStart = d.Attempt + 1,
            NextAttemptAt = now,
            UpdatedAt = now,
        }, cancellationToken);
        if (updated is not null)
        {
            await EnqueueAsync(new WebhookDeliveryMessage(workspaceId, webhookId, deliveryId, updated.Attempt + 1, Manual: true), null, cancellationToken);
        }

        return updated;
    }

    public Task EnqueueAsync(WebhookDeliveryMessage message, TimeSpan? delay, CancellationToken cancellationToken) =>
        queue.EnqueueAsync(WebhookDeliveryMessage.QueueName, message.ToText(), delay, cancellationToken);
}
