using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

/// <summary>A first run without configured providers: an Ollama or an OpenAI key on this machine is found by itself (fakes on 127.0.0.1 stand in).</summary>
public sealed class ProviderDiscoveryTests
{
    private static Dictionary<string, string?> Discovering(string ollamaUrl, string openAiBase = "http://127.0.0.1:9/v1", string openAiKey = "") => new()
    {
        ["Models:Discover"] = "true",
        ["Models:DiscoverOllamaUrl"] = ollamaUrl,
        ["Models:DiscoverOpenAiBaseUrl"] = openAiBase,
        // Set even when empty, so a key in the test machine's environment is never used.
        ["OPENAI_API_KEY"] = openAiKey,
        ["Models:HealthCacheSeconds"] = "0",
        ["Models:HealthProbeTimeoutSeconds"] = "1",
    };

    private static async Task<List<string>> ModelIdsAsync(HttpClient client, string token)
    {
        var response = await client.ApiGetAsync("/v1/models", token);
        return response.Status == HttpStatusCode.OK ? [.. response.Body!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>())] : [];
    }

    /// <summary>Health checks look for providers again; polls them until the model is listed.</summary>
    private static async Task<List<string>> WaitForModelAsync(HttpClient client, string token, string model)
    {
        for (var i = 0; i < 100; i++)
        {
            await client.ApiGetAsync("/api/v1/providers/health", token);
            var ids = await ModelIdsAsync(client, token);
            if (ids.Contains(model))
            {
                return ids;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{model} was never listed");
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Ollama_StartedAfterTheApp_IsFoundOnAHealthCheck_AndServesChat()
    {
        await using var ollama = await FakeModelServer.StartAsync();
        ollama.Always = async (context, _) =>
        {
            if (context.Request.Path != "/api/tags")
            {
                return false;
            }

            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("starting");
            return true;
        };
        await using var factory = PlatformFactory.With(Discovering(ollama.BaseUrl.ToString()));
        using var client = factory.CreateClient();
        var user = await client.RegisterAsync();

        var before = await client.ApiGetAsync("/v1/models", user.AccessToken);
        ollama.Always = null;
        var ids = await WaitForModelAsync(client, user.AccessToken, "llama3.2:1b");
        var chat = await client.ApiPostAsync("/v1/chat/completions", new { model = "llama3.2:1b", messages = new[] { new { role = "user", content = "hi" } } }, user.AccessToken);
        var health = await client.ApiGetAsync("/api/v1/monitoring/health");

        Assert.Equal(HttpStatusCode.NotFound, before.Status);
        Assert.Contains("POST /api/v1/providers", before.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(["llama3.2:1b"], ids);
        Assert.Equal(HttpStatusCode.OK, chat.Status);
        Assert.Contains(ollama.Received, r => r.Path == "/v1/chat/completions");
        Assert.Contains("providers:discovered", health.Body!.ToJsonString());
    }

    [Fact]
    public async Task OpenAiKeyInTheEnvironment_BecomesAnOperatorProvider_WithTheServersModels()
    {
        await using var openAi = await FakeModelServer.StartAsync();
        await using var factory = PlatformFactory.With(Discovering("", openAi.OpenAiBase, "sk-from-env"));
        using var client = factory.CreateClient();
        var user = await client.RegisterAsync();

        var ids = await WaitForModelAsync(client, user.AccessToken, "fake-model");

        Assert.Equal(["fake-model"], ids);
        Assert.Contains(openAi.Received, r => r.Path == "/v1/models" && r.Authorization == "Bearer sk-from-env");
    }

    [Fact]
    public async Task NothingReachable_ModelEndpointsAndChatSayHowToAddAProvider()
    {
        await using var factory = PlatformFactory.With(Discovering($"http://127.0.0.1:{ClosedPort()}"));
        using var client = factory.CreateClient();
        var user = await client.RegisterAsync();
        await client.ApiGetAsync("/api/v1/providers/health", user.AccessToken);

        var models = await client.ApiGetAsync("/v1/models", user.AccessToken);
        var completion = await client.ApiPostAsync("/v1/chat/completions", new { model = "llama3.2", messages = new[] { new { role = "user", content = "hi" } } }, user.AccessToken);
        var session = await client.ApiPostAsync("/api/v1/chat/sessions", new { }, user.AccessToken);
        var message = await client.ApiPostAsync("/api/v1/chat/messages",
            new { sessionId = session.Data["id"]!.GetValue<string>(), message = "hi" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, models.Status);
        Assert.Contains("OPENAI_API_KEY", models.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, completion.Status);
        Assert.Contains("POST /api/v1/providers", completion.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, message.Status);
        Assert.Contains("POST /api/v1/providers", message.Body!.ToJsonString());
    }

    [Fact]
    public async Task ConfiguredProviders_WinOutright_NothingIsDiscovered()
    {
        await using var ollama = await FakeModelServer.StartAsync();
        var settings = Discovering(ollama.BaseUrl.ToString());
        settings["Models:Providers:0:Name"] = "configured";
        settings["Models:Providers:0:Kind"] = "openai-compatible";
        settings["Models:Providers:0:BaseUrl"] = ollama.OpenAiBase;
        settings["Models:Providers:0:Models:0:Id"] = "configured-model";
        await using var factory = PlatformFactory.With(settings);
        using var client = factory.CreateClient();
        var user = await client.RegisterAsync();

        await client.ApiGetAsync("/api/v1/providers/health", user.AccessToken);
        var ids = await ModelIdsAsync(client, user.AccessToken);

        Assert.Equal(["configured-model"], ids);
        Assert.DoesNotContain(ollama.Received, r => r.Path == "/api/tags");
    }
}
