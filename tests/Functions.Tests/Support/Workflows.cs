using System.Net;
using System.Text.Json.Nodes;

namespace Serverless.Functions.Tests.Support;

/// <summary>A factory whose trigger host drives the engine, with loopback allowed for http_request nodes.</summary>
public class WorkflowFactory : PlatformFactory
{
    public WorkflowFactory() : this(new Dictionary<string, string?>())
    {
    }

    protected WorkflowFactory(IDictionary<string, string?> extra) : base(Merge(extra))
    {
    }

    private static Dictionary<string, string?> Merge(IDictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Triggers:Enabled"] = "true",
            ["Http:AllowedPrivateHosts"] = "127.0.0.1",
            ["RateLimits:ExecutePerMinute"] = "100000",
            ["Workflows:HeartbeatSeconds"] = "1",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }
}

public static class WorkflowApi
{
    public static JsonObject Node(string id, string type, object? config = null) =>
        new() { ["id"] = id, ["type"] = type, ["config"] = config is null ? null : JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(config)) };

    public static JsonObject Edge(string source, string target, string? handle = null) =>
        new() { ["source"] = source, ["target"] = target, ["sourceHandle"] = handle };

    public static JsonObject Definition(IEnumerable<JsonObject> nodes, IEnumerable<JsonObject> edges) =>
        new() { ["nodes"] = new JsonArray([.. nodes]), ["edges"] = new JsonArray([.. edges]) };

    /// <summary>start → the given nodes in a line → end(outputs).</summary>
    public static JsonObject Line(object outputs, params JsonObject[] middle)
    {
        var nodes = new List<JsonObject> { Node("start", "start") };
        nodes.AddRange(middle);
        nodes.Add(Node("end", "end", new { outputs }));
        var ids = nodes.Select(n => n["id"]!.GetValue<string>()).ToList();
        return Definition(nodes, ids.Zip(ids.Skip(1), (a, b) => Edge(a, b)));
    }

    public static async Task<string> CreateWorkflowAsync(this HttpClient client, TestUser user, JsonObject definition, string name = "wf", object? inputsSchema = null)
    {
        var body = new JsonObject { ["name"] = name, ["definition"] = definition.DeepClone() };
        if (inputsSchema is not null)
        {
            body["inputsSchema"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(inputsSchema));
        }

        var created = await client.ApiPostAsync("/api/v1/workflows", body.ToJsonString(), user.AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data["id"]!.GetValue<string>();
    }

    /// <summary>A new user with one workflow whose run outputs <c>x</c> = <c>inputs.x</c> (what schedules and processes start).</summary>
    public static async Task<(TestUser User, string Workflow)> UserWithEchoWorkflowAsync(this HttpClient client)
    {
        var user = await client.RegisterAsync();
        return (user, await client.CreateWorkflowAsync(user, Line(new { x = "{{inputs.x}}" })));
    }

    public static async Task<string> ExecuteAsync(this HttpClient client, TestUser user, string workflowId, object? input = null)
    {
        var started = await client.ApiPostAsync($"/api/v1/workflows/{workflowId}/execute", new { input = input ?? new { } }, user.AccessToken);
        Assert.True(started.Status == HttpStatusCode.Accepted, started.Body?.ToJsonString());
        return started.Data["executionId"]!.GetValue<string>();
    }

    public static async Task<JsonNode> RunAsync(this HttpClient client, TestUser user, string workflowId, object? inputs = null)
    {
        var run = await client.ApiPostAsync($"/api/v1/workflows/{workflowId}/run", new { inputs = inputs ?? new { }, options = new { timeout = 20_000 } }, user.AccessToken);
        Assert.True(run.Status == HttpStatusCode.OK, run.Body?.ToJsonString());
        return run.Data;
    }

    public static async Task<JsonNode> GetExecutionAsync(this HttpClient client, TestUser user, string executionId) =>
        (await client.ApiGetAsync($"/api/v1/executions/{executionId}", user.AccessToken)).Data;

    /// <summary>Polls the run until <paramref name="until"/> holds for it (default: it ended).</summary>
    public static async Task<JsonNode> WaitForAsync(this HttpClient client, TestUser user, string executionId, Func<JsonNode, bool>? until = null, int seconds = 20)
    {
        until ??= run => run["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled" or "timed_out";
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var run = await client.GetExecutionAsync(user, executionId);
            if (until(run))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Run did not reach the expected state in {seconds} s: {run.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    public static JsonNode NodeOf(JsonNode run, string nodeId) => run["nodes"]!.AsArray().First(n => n!["id"]!.GetValue<string>() == nodeId)!;
}
