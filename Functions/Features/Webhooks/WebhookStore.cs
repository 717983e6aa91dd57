using System.Security.Cryptography;
using System.Text;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Webhooks;

/// <param name="SealedSecret">The signing secret, sealed by <see cref="SecretProtector"/> (purpose bound to the webhook id).</param>
/// <param name="FailingSince">When the first delivery failure after the last success happened; null while deliveries succeed.</param>
internal sealed record WebhookRecord(
    string Id,
    string Url,
    IReadOnlyList<string> Events,
    string SealedSecret,
    string Description,
    bool Active,
    string? DisabledReason,
    DateTimeOffset? FailingSince,
    DateTimeOffset? LastSuccessAt,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <param name="Attempt">Attempts made so far (the next message carries Attempt + 1); fences stale and duplicate messages.</param>
/// <param name="SeriesStart">The first attempt of the current retry series (a redelivery starts a new one).</param>
internal sealed record DeliveryRecord(
    string Id,
    string WebhookId,
    string EventId,
    string Event,
    string Status,
    int Attempt,
    int SeriesStart,
    int? ResponseCode,
    long? LatencyMs,
    string? ResponseBody,
    string? Error,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

internal static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Retrying = "retrying";

    public static readonly IReadOnlyList<string> All = [Pending, Delivered, Failed, Retrying];
}

/// <summary>
/// A workspace's webhooks (at most <see cref="MaxPerWorkspace"/>, so listed in memory) in its partition, and each
/// webhook's deliveries in a partition of their own beside index rows that list them newest first.
/// </summary>
internal sealed class WebhookStore(IEntityStore store, SecretProtector protector)
    : PartitionRecords<WebhookRecord>(store, "webhooks", w => w.Id)
{
    public const int MaxPerWorkspace = 20;

    public static readonly ListIndex<DeliveryRecord> DeliveryIndex = new(
        version: 1,
        d => d.Id,
        new Dictionary<string, Func<DeliveryRecord, string>> { ["createdAt"] = d => d.CreatedAt.UtcDateTime.ToString("O") },
        new Dictionary<string, Func<DeliveryRecord, string?>> { ["status"] = d => d.Status });

    private readonly IndexedTable<DeliveryRecord> _deliveries = new(store, "webhookdeliveries", DeliveryIndex, EntityTable<DeliveryRecord>.Json);

    public IndexedList<DeliveryRecord> Deliveries => new(_deliveries, "createdAt", DefaultDescending: true, StatusFilter: "status");

    public static string DeliveryPartition(string workspaceId, string webhookId) => $"{workspaceId}~{webhookId}";

    /// <summary>One delivery per webhook and event, whoever asks and however often.</summary>
    public static string DeliveryId(string webhookId, string eventId) =>
        "dlv_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(webhookId + "\n" + eventId)))[..32];

    public string Seal(string webhookId, string secret) => protector.Protect(secret, Purpose(webhookId));

    public string? SecretOf(WebhookRecord webhook) => protector.Unprotect(webhook.SealedSecret, Purpose(webhook.Id));

    public async Task<DeliveryRecord?> GetDeliveryAsync(string workspaceId, string webhookId, string id, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(webhookId) && StoreKeys.IsValidKey(id)
            ? (await _deliveries.GetAsync(DeliveryPartition(workspaceId, webhookId), id, cancellationToken))?.Value
            : null;

    public Task<WriteResult> InsertDeliveryAsync(string workspaceId, DeliveryRecord delivery, CancellationToken cancellationToken) =>
        _deliveries.InsertAsync(DeliveryPartition(workspaceId, delivery.WebhookId), delivery, cancellationToken);

    public async Task<DeliveryRecord?> UpdateDeliveryAsync(
        string workspaceId, string webhookId, string id, Func<DeliveryRecord, DeliveryRecord?> change, CancellationToken cancellationToken) =>
        (await _deliveries.UpdateAsync(DeliveryPartition(workspaceId, webhookId), id, change, cancellationToken))?.Value;

    private static string Purpose(string webhookId) => "webhook-secret:" + webhookId;
}
