using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

/// <summary>The body of creating and changing a webhook (on change, an absent field stays as it is).</summary>
internal sealed record WebhookRequest(string? Url, IReadOnlyList<string>? Events, string? Secret, string? Description, bool? Active);

internal static class WebhookInput
{
    public static Validator Check(WebhookRequest request, bool creating)
    {
        var unknown = request.Events?.Where(e => !PlatformEventTypes.All.Contains(e, StringComparer.Ordinal)).ToList() ?? [];
        return new Validator()
            .When((creating || request.Url is not null) && !PrivateNetworkGuard.IsHttpUrl(request.Url), "url", "url must be an absolute http or https URL (at most 2000 characters).")
            .When((creating || request.Events is not null) && request.Events is not { Count: > 0 }, "events",
                $"Give at least one event: {string.Join(", ", PlatformEventTypes.All)}.")
            .When(unknown.Count > 0, "events", $"Unknown events: {string.Join(", ", unknown)}; the known events are {string.Join(", ", PlatformEventTypes.All)}.")
            .When(request.Secret is { } secret && (secret.Length is < 16 or > 200 || secret.Any(char.IsWhiteSpace)), "secret",
                "secret must be 16 to 200 characters without spaces.")
            .MaxLength("description", request.Description, 500);
    }

    public static IReadOnlyList<string> Events(IReadOnlyList<string> events) => [.. events.Distinct(StringComparer.Ordinal)];

}

internal sealed record WebhookDto(
    string Id, string Url, IReadOnlyList<string> Events, string Description, bool Active, string? DisabledReason,
    DateTimeOffset? LastSuccessAt, DateTimeOffset? FailingSince, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static WebhookDto From(WebhookRecord w) =>
        new(w.Id, w.Url, w.Events, w.Description, w.Active, w.DisabledReason, w.LastSuccessAt, w.FailingSince, w.CreatedAt, w.UpdatedAt);
}

/// <summary>The create response: the only time the secret is shown.</summary>
internal sealed record CreatedWebhookDto(
    string Id, string Url, IReadOnlyList<string> Events, string Description, bool Active, string Secret, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record DeliveryDto(
    string Id, string WebhookId, string EventId, string Event, string Status, int? ResponseCode, long? LatencyMs, int Attempt,
    DateTimeOffset? NextAttemptAt, string? ResponseBody, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static DeliveryDto From(DeliveryRecord d) =>
        new(d.Id, d.WebhookId, d.EventId, d.Event, d.Status, d.ResponseCode, d.LatencyMs, d.Attempt, d.NextAttemptAt, d.ResponseBody, d.Error,
            d.CreatedAt, d.UpdatedAt);
}
