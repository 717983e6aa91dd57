using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.WorkflowTriggers;

/// <summary>A workflow factory whose hooks accept few calls a minute, so the limit is quick to reach.</summary>
public sealed class WorkflowTriggerFactory() : WorkflowFactory(new Dictionary<string, string?> { ["WorkflowTriggers:HookPerMinute"] = "5" });

internal static class WorkflowTriggerApi
{
    public static async Task<JsonNode> CreateTriggerAsync(this HttpClient client, TestUser user, string workflowId, object body)
    {
        var created = await client.ApiPostAsync($"/api/v1/workflows/{workflowId}/triggers", body, user.AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data;
    }

    public static async Task<JsonArray> ListTriggersAsync(this HttpClient client, TestUser user, string workflowId) =>
        (await client.ApiGetAsync($"/api/v1/workflows/{workflowId}/triggers", user.AccessToken)).Data.AsArray();

    public static async Task<int> CountRunsAsync(this HttpClient client, TestUser user, string workflowId) =>
        (await client.ApiGetAsync($"/api/v1/executions?workflowId={workflowId}&limit=100", user.AccessToken)).Data.AsArray().Count;

    /// <summary>Headers signing <paramref name="body"/> as the README tells a sender to.</summary>
    public static Dictionary<string, string> Sign(string secret, string body, DateTimeOffset at)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return new() { ["X-Hook-Timestamp"] = timestamp, ["X-Hook-Signature"] = "sha256=" + Convert.ToHexStringLower(mac) };
    }

    /// <summary>The next instant after <paramref name="from"/> at which the zone's UTC offset changes (to the minute).</summary>
    public static DateTimeOffset NextOffsetChange(TimeZoneInfo zone, DateTimeOffset from)
    {
        var at = new DateTimeOffset(from.UtcDateTime.Date.AddHours(from.Hour), TimeSpan.Zero);
        var offset = zone.GetUtcOffset(at);
        while (zone.GetUtcOffset(at.AddHours(1)) == offset)
        {
            at = at.AddHours(1);
        }

        while (zone.GetUtcOffset(at) == offset)
        {
            at = at.AddMinutes(1);
        }

        return at;
    }
}
