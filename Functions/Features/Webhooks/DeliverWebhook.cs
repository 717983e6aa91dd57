using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Events;

namespace Serverless.Functions.Features.Webhooks;

/// <summary>
/// One attempt of one delivery, run by the <c>DeliverWebhook</c> queue function. An HTTP failure is an outcome, not an
/// exception: it is recorded and the next attempt is queued with a visibility delay (the queue's own retries and poison
/// queue stay for failures of the platform itself). A message whose attempt is not the delivery's next one is stale
/// (a retry a redelivery overtook, a duplicate) and changes nothing.
/// </summary>
internal sealed class DeliverWebhook(
    WebhookStore store, WebhookDeliveries deliveries, WebhookSender sender, PlatformEventLog events, TimeProvider time, ILogger<DeliverWebhook> logger)
{
    /// <summary>How long every delivery of a webhook may fail before the webhook is disabled.</summary>
    public static readonly TimeSpan DisableAfter = TimeSpan.FromHours(24);

    public async Task RunAsync(WebhookDeliveryMessage message, long dequeueCount, CancellationToken cancellationToken)
    {
        var (workspaceId, webhookId, deliveryId, attempt) = (message.WorkspaceId, message.WebhookId, message.DeliveryId, message.Attempt);
        if (await store.GetDeliveryAsync(workspaceId, webhookId, deliveryId, cancellationToken) is not { } delivery || !IsDue(delivery, attempt, dequeueCount))
        {
            WebhooksLog.Stale(logger, deliveryId, attempt);
            return;
        }

        var webhook = await store.GetAsync(workspaceId, webhookId, cancellationToken);
        var platformEvent = await events.GetAsync(workspaceId, delivery.EventId, cancellationToken);
        var secret = webhook is null ? null : store.SecretOf(webhook);
        var refusal = webhook is null ? "The webhook was deleted."
            : !webhook.Active && !message.Manual ? "The webhook is disabled."
            : platformEvent is null ? "The event is no longer recorded."
            : secret is null ? "The webhook's secret cannot be read (the secret-protection key changed)."
            : null;
        if (refusal is not null)
        {
            await FinishAsync(message, d => d with { Status = DeliveryStatus.Failed, Attempt = attempt, Error = refusal, NextAttemptAt = null }, cancellationToken);
            return;
        }

        // Claim the attempt: of two messages for the same attempt only the one whose write lands goes on.
        var claimed = false;
        await store.UpdateDeliveryAsync(workspaceId, webhookId, deliveryId, d =>
        {
            claimed = IsDue(d, attempt, dequeueCount);
            return claimed ? d with { Status = DeliveryStatus.Pending, Attempt = attempt, UpdatedAt = time.GetUtcNow() } : null;
        }, cancellationToken);
        if (!claimed)
        {
            WebhooksLog.Stale(logger, deliveryId, attempt);
            return;
        }

        var body = new JsonObject
        {
            ["id"] = platformEvent!.Id,
            ["event"] = platformEvent.Type,
            ["data"] = platformEvent.Payload.DeepClone(),
            ["timestamp"] = platformEvent.Time.UtcDateTime.ToString("O"),
        }.ToJsonString();
        var outcome = await sender.SendAsync(new Uri(webhook!.Url), webhook.Id, platformEvent.Type, secret!, body, cancellationToken);
        var now = time.GetUtcNow();
        if (outcome.Delivered)
        {
            await FinishAsync(message, d => d with
            {
                Status = DeliveryStatus.Delivered, ResponseCode = outcome.StatusCode, LatencyMs = outcome.LatencyMs, ResponseBody = outcome.ResponseBody,
                Error = null, NextAttemptAt = null,
            }, cancellationToken);
            await store.UpdateAsync(workspaceId, webhookId, w => w with { FailingSince = null, LastSuccessAt = now }, cancellationToken);
            WebhooksLog.Delivered(logger, deliveryId, webhookId, attempt, outcome.StatusCode!.Value, outcome.LatencyMs);
            return;
        }

        var updated = await RecordFailureAsync(workspaceId, webhookId, outcome.Error!, now, cancellationToken);
        var delay = updated is { Active: false } && !message.Manual
            ? null
            : WebhookRetries.Delay(attempt - delivery.SeriesStart + 1, outcome.RetryAfter, Random.Shared.NextDouble());
        if (delay is { } wait)
        {
            // Queued before it is recorded: a crash in between leaves a message that still finds its attempt due.
            await deliveries.EnqueueAsync(message with { Attempt = attempt + 1 }, wait, cancellationToken);
        }

        await FinishAsync(message, d => d with
        {
            Status = delay is null ? DeliveryStatus.Failed : DeliveryStatus.Retrying, ResponseCode = outcome.StatusCode, LatencyMs = outcome.LatencyMs,
            ResponseBody = outcome.ResponseBody, Error = outcome.Error, NextAttemptAt = now + delay,
        }, cancellationToken);
        if (delay is { } next)
        {
            WebhooksLog.Retrying(logger, deliveryId, webhookId, attempt, outcome.Error!, next);
        }
        else
        {
            WebhooksLog.GaveUp(logger, deliveryId, webhookId, attempt, outcome.Error!);
        }
    }

    /// <summary>
    /// Whether the message's attempt is the delivery's next one, or the one it claimed and never finished (the message
    /// is back because the process died mid-attempt).
    /// </summary>
    private static bool IsDue(DeliveryRecord delivery, int attempt, long dequeueCount) =>
        delivery.Status is DeliveryStatus.Pending or DeliveryStatus.Retrying
        && (delivery.Attempt + 1 == attempt || (delivery.Attempt == attempt && delivery.Status == DeliveryStatus.Pending && dequeueCount > 1));

    private Task FinishAsync(WebhookDeliveryMessage message, Func<DeliveryRecord, DeliveryRecord> change, CancellationToken cancellationToken) =>
        store.UpdateDeliveryAsync(message.WorkspaceId, message.WebhookId, message.DeliveryId,
            d => d.Attempt == message.Attempt || d.Attempt + 1 == message.Attempt ? change(d) with { UpdatedAt = time.GetUtcNow() } : null, cancellationToken);

    /// <summary>Notes the failure on the webhook; once every delivery failed for <see cref="DisableAfter"/> it is disabled.</summary>
    private async Task<WebhookRecord?> RecordFailureAsync(string workspaceId, string webhookId, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var disabled = false;
        var updated = await store.UpdateAsync(workspaceId, webhookId, w =>
        {
            var since = w.FailingSince ?? now;
            disabled = w.Active && now - since >= DisableAfter;
            return disabled
                ? w with { FailingSince = since, Active = false, DisabledReason = $"Every delivery failed since {since.UtcDateTime:O} (last: {error}).", UpdatedAt = now }
                : w.FailingSince is null ? w with { FailingSince = since } : null;
        }, cancellationToken);
        if (disabled && updated?.FailingSince is { } failingSince)
        {
            WebhooksLog.Disabled(logger, webhookId, workspaceId, failingSince);
        }

        return updated;
    }
}
