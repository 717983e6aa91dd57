using System.Text.Json.Nodes;

namespace Serverless.Functions.Features.WorkflowTriggers;

/// <summary>
/// A trigger as the API shows it. <c>url</c> (webhooks) and <c>signingSecret</c> (signed webhooks) are only in the
/// answer that created the trigger; afterwards <c>urlHint</c> (the URL's last four characters) tells them apart.
/// </summary>
internal sealed record TriggerDto(
    string Id,
    string WorkflowId,
    string Type,
    bool Active,
    JsonObject Inputs,
    string? Cron,
    string? Timezone,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    string? LastExecutionId,
    string? Respond,
    bool? Secret,
    string? Url,
    string? UrlHint,
    string? SigningSecret,
    string CreatedBy,
    DateTimeOffset CreatedAt)
{
    public static TriggerDto From(TriggerRecord t, string? url = null, string? signingSecret = null) => new(
        t.Id, t.WorkflowId, t.Type, t.Active, t.Inputs, t.Cron, t.Timezone, t.NextRunAt, t.LastRunAt, t.LastExecutionId, t.Respond,
        t.Type == TriggerTypes.Webhook ? t.SealedSecret is not null : null, url, t.UrlHint, signingSecret, t.CreatedBy, t.CreatedAt);
}
