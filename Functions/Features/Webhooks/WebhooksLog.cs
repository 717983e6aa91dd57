namespace Serverless.Functions.Features.Webhooks;

/// <summary>Events of the webhooks feature (EventIds 840-859). Never a secret, never a payload.</summary>
internal static partial class WebhooksLog
{
    [LoggerMessage(EventId = 840, Level = LogLevel.Information, Message = "Webhook {WebhookId} created in workspace {WorkspaceId}")]
    public static partial void Created(ILogger logger, string webhookId, string workspaceId);

    [LoggerMessage(EventId = 841, Level = LogLevel.Information, Message = "Webhook {WebhookId} deleted from workspace {WorkspaceId}")]
    public static partial void Deleted(ILogger logger, string webhookId, string workspaceId);

    [LoggerMessage(EventId = 842, Level = LogLevel.Information, Message = "Delivery {DeliveryId} of webhook {WebhookId} attempt {Attempt}: delivered with {StatusCode} in {LatencyMs} ms")]
    public static partial void Delivered(ILogger logger, string deliveryId, string webhookId, int attempt, int statusCode, long latencyMs);

    [LoggerMessage(EventId = 843, Level = LogLevel.Warning, Message = "Delivery {DeliveryId} of webhook {WebhookId} attempt {Attempt} failed ({Reason}); next attempt in {Delay}")]
    public static partial void Retrying(ILogger logger, string deliveryId, string webhookId, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 844, Level = LogLevel.Warning, Message = "Delivery {DeliveryId} of webhook {WebhookId} attempt {Attempt} failed ({Reason}); giving up")]
    public static partial void GaveUp(ILogger logger, string deliveryId, string webhookId, int attempt, string reason);

    [LoggerMessage(EventId = 845, Level = LogLevel.Warning, Message = "Webhook {WebhookId} of workspace {WorkspaceId} disabled: every delivery failed since {FailingSince}")]
    public static partial void Disabled(ILogger logger, string webhookId, string workspaceId, DateTimeOffset failingSince);

    [LoggerMessage(EventId = 846, Level = LogLevel.Debug, Message = "Stale webhook delivery message for {DeliveryId} attempt {Attempt} ignored")]
    public static partial void Stale(ILogger logger, string deliveryId, int attempt);

    [LoggerMessage(EventId = 847, Level = LogLevel.Warning, Message = "A message on {Queue} that is not a webhook delivery was dropped")]
    public static partial void Ignored(ILogger logger, string queue);
}
