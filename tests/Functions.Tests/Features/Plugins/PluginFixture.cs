using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Plugins;

/// <summary>
/// The app (with the gateway's fake model servers, for the assistant) whose plugins may reach 127.0.0.1, beside a plugin
/// server the tests install http plugins from: <c>/echo</c> answers the input and config it was sent, <c>/bad-output</c> an
/// output its schema refuses, <c>/fail</c> HTTP 500, <c>/slow</c> after 3 s, <c>/page</c> an HTML page.
/// </summary>
public sealed class PluginFixture : GatewayFixture
{
    private WebApplication _server = null!;

    public string ServerUrl { get; private set; } = "";

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>The bodies the plugin server received, by path.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<JsonNode>> Received { get; } = new();

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Plugins:AllowedPrivateHosts"] = "127.0.0.1",
        ["Plugins:TimeoutSeconds"] = "10",
        ["Integrations:AllowedPrivateHosts"] = "127.0.0.1",
        ["Http:AllowedPrivateHosts"] = "127.0.0.1",
        // Workflow runs and the asynchronous executions' queue function run as they do in the app.
        ["Triggers:Enabled"] = "true",
    };

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);

    public override async Task InitializeAsync()
    {
        (_server, ServerUrl) = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/echo", async (HttpRequest request) =>
            {
                var body = await Remember(request);
                return Results.Json(new JsonObject
                {
                    ["output"] = new JsonObject
                    {
                        ["echo"] = body["input"]?.DeepClone(),
                        ["config"] = body["config"]?.DeepClone(),
                        ["pluginHeader"] = request.Headers["X-Plugin-Id"].ToString(),
                        ["executionId"] = body["context"]?["executionId"]?.DeepClone(),
                        ["authorization"] = request.Headers.Authorization.ToString(),
                    },
                });
            });
            app.MapPost("/bad-output", async (HttpRequest request) =>
            {
                await Remember(request);
                return Results.Json(new { output = new { wrong = true } });
            });
            app.MapPost("/fail", async (HttpRequest request) =>
            {
                await Remember(request);
                return Results.Json(new { error = new { message = "boom from the plugin" } }, statusCode: 500);
            });
            app.MapPost("/slow", async (HttpRequest request, CancellationToken cancellationToken) =>
            {
                await Remember(request);
                await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
                return Results.Json(new { output = new { echo = "late" } });
            });
            app.MapGet("/page", () => Results.Content(
                "<html><head><title>Plugin &amp; Page</title><script>var hidden = 'SCRIPT';</script><style>p{}</style></head>"
                + "<body><h1>Welcome</h1><p>First paragraph.</p><p>Second <b>bold</b> paragraph.</p></body></html>", "text/html; charset=utf-8"));
        });
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<JsonNode> Remember(HttpRequest request)
    {
        var body = JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync()) ?? new JsonObject();
        Received.GetOrAdd(request.Path.Value ?? "", _ => new ConcurrentQueue<JsonNode>()).Enqueue(body);
        return body;
    }
}

/// <summary>Manifests for the tests.</summary>
internal static class Manifests
{
    public static JsonObject Http(string id, string url, object? capabilities = null, object? inputSchema = null, object? outputSchema = null, object? configSchema = null,
        int? timeoutSeconds = null)
    {
        var host = new Uri(url).Host;
        var manifest = new JsonObject
        {
            ["id"] = id,
            ["name"] = "Test " + id,
            ["version"] = "1.0.0",
            ["description"] = "A plugin the tests serve.",
            ["categories"] = new JsonArray("utility"),
            ["runtime"] = new JsonObject { ["kind"] = "http", ["url"] = url, ["timeoutSeconds"] = timeoutSeconds },
            ["capabilities"] = Node(capabilities ?? new { network = new[] { host } }),
            ["inputSchema"] = Node(inputSchema ?? new { type = "object", required = new[] { "text" }, properties = new { text = new { type = "string" } } }),
            ["outputSchema"] = Node(outputSchema ?? new { type = "object", required = new[] { "echo" } }),
        };
        if (configSchema is not null)
        {
            manifest["configSchema"] = Node(configSchema);
        }

        return manifest;
    }

    public static JsonNode Node(object value) => value as JsonNode ?? JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(value))!;

    public static async Task<JsonNode> InstallAsync(this HttpClient client, TestUser user, JsonObject manifest, object? grant = null)
    {
        var installed = await client.ApiPostAsync("/api/v1/plugins", new JsonObject { ["manifest"] = manifest, ["grant"] = grant is null ? null : Node(grant) }, user.AccessToken);
        Assert.True(installed.Status == HttpStatusCode.Created, installed.Body?.ToJsonString());
        return installed.Data;
    }

    public static Task<ApiResponse> ExecutePluginAsync(this HttpClient client, TestUser user, string pluginId, object input, bool? async = null) =>
        client.ApiPostAsync($"/api/v1/plugins/{pluginId}/execute", new JsonObject { ["input"] = Node(input), ["async"] = async }, user.AccessToken);
}
