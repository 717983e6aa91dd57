using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Processes;

internal static class ProcessApi
{
    public static async Task<JsonNode> CreateProcessAsync(this HttpClient client, TestUser user, object body)
    {
        var created = await client.ApiPostAsync("/api/v1/processes", body, user.AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data;
    }

    public static async Task<JsonNode> GetProcessAsync(this HttpClient client, TestUser user, string processId) =>
        (await client.ApiGetAsync($"/api/v1/processes/{processId}", user.AccessToken)).Data;

    public static async Task<JsonArray> ListProcessExecutionsAsync(this HttpClient client, TestUser user, string processId) =>
        (await client.ApiGetAsync($"/api/v1/processes/{processId}/executions", user.AccessToken)).Data.AsArray();

    public static string Id(this JsonNode process) => process["process_id"]!.GetValue<string>();

    public static object TimeBased(string workflowId, string schedule, string? timezone = null, object? inputs = null) =>
        new { name = "scheduled", trigger_type = "time_based", schedule, timezone, action = new { workflowId, inputs = inputs ?? new { } } };
}
