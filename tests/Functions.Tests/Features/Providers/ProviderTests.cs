using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Providers;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Providers;

public sealed class ProviderTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private object Provider(string name, string? baseUrl = null, string model = "ws-model", string? apiKey = "sk-workspace-secret") => new
    {
        name,
        kind = "openai-compatible",
        baseUrl = baseUrl ?? fixture.Secondary.OpenAiBase,
        apiKey,
        models = new[] { new { id = model, upstreamModel = "ws-upstream", inputPricePer1K = 3.0, outputPricePer1K = 4.0 } },
    };

    [Fact]
    public async Task Crud_CreatesReadsUpdatesDeletes_AndNeverReturnsTheKey()
    {
        var user = await _client.RegisterAsync();

        var created = await _client.ApiPostAsync("/api/v1/providers", Provider("mine"), user.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();
        var listed = await _client.ApiGetAsync("/api/v1/providers", user.AccessToken);
        var updated = await _client.ApiPutAsync($"/api/v1/providers/{id}", new { priority = 5, apiKey = "" }, user.AccessToken);
        var read = await _client.ApiGetAsync($"/api/v1/providers/{id}", user.AccessToken);
        var deleted = await _client.ApiDeleteAsync($"/api/v1/providers/{id}", user.AccessToken);
        var gone = await _client.ApiGetAsync($"/api/v1/providers/{id}", user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.True(created.Data["hasApiKey"]!.GetValue<bool>());
        Assert.DoesNotContain("sk-workspace-secret", created.Body!.ToJsonString() + listed.Body!.ToJsonString() + read.Body!.ToJsonString());
        Assert.Single(listed.Data.AsArray());
        Assert.Equal(5, updated.Data["priority"]!.GetValue<int>());
        Assert.False(read.Data["hasApiKey"]!.GetValue<bool>());
        Assert.Equal("ws-model", read.Data["models"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task WorkspaceProvider_RefusingItsKey_RecordsCredentialExpired_OncePerDay()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await _client.ApiPostAsync("/api/v1/providers", Provider("revoked-prov", model: "revoked-model", apiKey: "sk-revoked"), user.AccessToken);
        var events = fixture.Factory.Services.GetRequiredService<Serverless.Functions.Platform.Events.PlatformEventLog>();
        var prefix = "credential.expired:provider:revoked-prov:";

        fixture.Secondary.EnqueueStatus(401);
        var refused = await _client.ApiPostAsync("/v1/chat/completions", new { model = "revoked-model", messages = new[] { new { role = "user", content = "hi" } } }, key);
        fixture.Secondary.EnqueueStatus(403);
        await _client.ApiPostAsync("/v1/chat/completions", new { model = "revoked-model", messages = new[] { new { role = "user", content = "again" } } }, key);
        var recorded = await events.PageAsync(user.PersonalWorkspaceId, prefix, null, 10, CancellationToken.None);

        Assert.NotEqual(HttpStatusCode.OK, refused.Status);
        var alarm = Assert.Single(recorded!.Value.Items);
        Assert.Equal("credential.expired", alarm.Type);
        Assert.Equal("revoked-prov", alarm.Payload["name"]!.GetValue<string>());
        Assert.Equal(401, alarm.Payload["status"]!.GetValue<int>());
        Assert.DoesNotContain("sk-revoked", alarm.Payload.ToJsonString());
    }

    [Fact]
    public async Task WorkspaceProvider_ServesItsModel_WithTheDecryptedKey_AndTheKeyIsEncryptedAtRest()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await _client.ApiPostAsync("/api/v1/providers", Provider("ws-prov", apiKey: "sk-at-rest-check"), user.AccessToken);

        var response = await _client.ApiPostAsync("/v1/chat/completions", new { model = "ws-model", messages = new[] { new { role = "user", content = "mine" } } }, key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var sent = fixture.Secondary.Received.Last(r => r.Body?["model"]?.ToString() == "ws-upstream");
        Assert.Equal("Bearer sk-at-rest-check", sent.Authorization);
        Assert.DoesNotContain("sk-at-rest-check", ReadStoreFiles());
    }

    [Fact]
    public async Task WorkspaceIsolation_OthersCannotSeeUseOrChangeAWorkspacesProvider()
    {
        var owner = await _client.RegisterAsync();
        var (_, otherKey) = await fixture.UserWithKeyAsync();
        var other = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/providers", Provider("private-prov", model: "private-model"), owner.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();

        var list = await _client.ApiGetAsync("/api/v1/providers", other.AccessToken);
        var get = await _client.ApiGetAsync($"/api/v1/providers/{id}", other.AccessToken);
        var put = await _client.ApiPutAsync($"/api/v1/providers/{id}", new { priority = 1 }, other.AccessToken);
        var delete = await _client.ApiDeleteAsync($"/api/v1/providers/{id}", other.AccessToken);
        var call = await _client.ApiPostAsync("/v1/chat/completions", new { model = "private-model", messages = new[] { new { role = "user", content = "x" } } }, otherKey);
        var models = await _client.ApiGetAsync("/v1/models", otherKey);
        var foreignWorkspace = await _client.ApiGetAsync("/api/v1/providers", other.AccessToken, new Dictionary<string, string> { ["X-Workspace-Id"] = owner.PersonalWorkspaceId });

        Assert.Empty(list.Data.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, get.Status);
        Assert.Equal(HttpStatusCode.NotFound, put.Status);
        Assert.Equal(HttpStatusCode.NotFound, delete.Status);
        Assert.Equal(HttpStatusCode.NotFound, call.Status);
        Assert.DoesNotContain("private-model", models.Body!.ToJsonString());
        Assert.Equal(HttpStatusCode.NotFound, foreignWorkspace.Status);
    }

    [Fact]
    public async Task AzureOpenAiProvider_SendsTheKeyAsTheApiKeyHeader_ToTheV1Endpoint()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await _client.ApiPostAsync("/api/v1/providers", new
        {
            name = "azure-prov",
            kind = "azure-openai",
            baseUrl = fixture.Secondary.OpenAiBase + "/",
            apiKey = "azure-secret",
            models = new[] { new { id = "azure-model", upstreamModel = "my-deployment" } },
        }, user.AccessToken);

        var response = await _client.ApiPostAsync("/v1/chat/completions", new { model = "azure-model", messages = new[] { new { role = "user", content = "az" } } }, key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var sent = fixture.Secondary.Received.Last(r => r.Body?["model"]?.ToString() == "my-deployment");
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal("azure-secret", sent.ApiKeyHeader);
        Assert.Null(sent.Authorization);
    }

    [Theory]
    [InlineData("http://10.1.2.3/v1")]
    [InlineData("http://169.254.169.254/latest")]
    [InlineData("http://localhost:9/v1")]
    [InlineData("http://[::1]:9/v1")]
    [InlineData("http://192.168.0.10/v1")]
    public async Task Create_WithAnInternalAddress_Is422_UnlessTheHostIsAllowListed(string baseUrl)
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPostAsync("/api/v1/providers", Provider("internal", baseUrl), user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("baseUrl", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task StoredProviderOnAnInternalHost_IsRefusedAtConnectTime_NotOnlyWhenSaved()
    {
        // A name that resolved to a public address when saved may later resolve to an internal one (DNS rebinding):
        // the guarded connection checks again. Written past the API's validation to stand for that later state.
        var (user, key) = await fixture.UserWithKeyAsync();
        var store = fixture.Factory.Services.GetRequiredService<ProviderStore>();
        var now = DateTimeOffset.UtcNow;
        await store.CreateAsync(user.PersonalWorkspaceId, new ProviderRecord("prv_rebound", "rebound", "openai-compatible",
            $"http://localhost:{fixture.Secondary.BaseUrl.Port}/v1", null, [new ProviderModelRecord("rebound-model", null, 0, 0, false)], 100, user.Id, now, now),
            null, CancellationToken.None);

        var response = await _client.ApiPostAsync("/v1/chat/completions", new { model = "rebound-model", messages = new[] { new { role = "user", content = "x" } } }, key);

        Assert.Equal(HttpStatusCode.BadGateway, response.Status);
        Assert.DoesNotContain(fixture.Secondary.Received, r => r.Body?["model"]?.ToString() == "rebound-model");
    }

    [Fact]
    public async Task Create_InvalidOrClashing_Is422Or409()
    {
        var user = await _client.RegisterAsync();

        var invalid = await _client.ApiPostAsync("/api/v1/providers",
            new { name = "Bad Name", kind = "magic", baseUrl = "ftp://x", models = Array.Empty<object>(), priority = 5000 }, user.AccessToken);
        var clash = await _client.ApiPostAsync("/api/v1/providers", Provider("primary"), user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
        Assert.Equal(["name", "kind", "baseUrl", "models", "priority"], invalid.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Conflict, clash.Status);
    }

    [Fact]
    public async Task Health_ProbesEveryProvider_InForgeTmShape_AndReportsADeadOne()
    {
        var user = await _client.RegisterAsync();
        await _client.ApiPostAsync("/api/v1/providers", Provider("dead-prov", "http://127.0.0.1:9/v1", "dead-model"), user.AccessToken);

        var health = await _client.ApiGetAsync("/api/v1/providers/health", user.AccessToken);
        var catalog = await _client.ApiGetAsync("/v1/providers", user.AccessToken);

        var data = health.Data;
        Assert.Equal("degraded", data["status"]!.GetValue<string>());
        Assert.True(data["took_ms"]!.GetValue<long>() >= 0);
        Assert.True(data["providers"]!["primary"]!["ok"]!.GetValue<bool>());
        Assert.Null(data["providers"]!["primary"]!["url"]);
        Assert.False(data["providers"]!["dead-prov"]!["ok"]!.GetValue<bool>());
        Assert.Equal("http://127.0.0.1:9/v1", data["providers"]!["dead-prov"]!["url"]!.GetValue<string>());
        Assert.True(data["providers"]!["secondary"]!["latency_ms"]!.GetValue<long>() >= 0);
        Assert.Equal(4, catalog.Body!["total_configured"]!.GetValue<int>());
        Assert.Equal(3, catalog.Body["total_available"]!.GetValue<int>());
        Assert.Equal(["gpt-test", "solo", "embed-test"], catalog.Body["providers"]!["primary"]!["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.True(catalog.Body["providers"]!["dead-prov"]!["configured"]!.GetValue<bool>());
    }

    [Fact]
    public async Task MonitoringHealth_ListsEachOperatorProvider_AsAComponent()
    {
        var response = await _client.ApiGetAsync("/api/v1/monitoring/health");

        var names = response.Data["components"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("provider:primary", names);
        Assert.Contains("provider:secondary", names);
        Assert.Contains("provider:local-ollama", names);
        Assert.Equal("HEALTHY", response.Data["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ViewerOrReadOnlyKey_CannotChangeProviders()
    {
        var user = await _client.RegisterAsync();
        var readOnly = await _client.CreateKeyAsync(user, ["providers:read"]);

        var response = await _client.ApiPostAsync("/api/v1/providers", Provider("ro"), readOnly);

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
    }

    [Fact]
    public async Task List_SeveralPagesOfASmallLimit_AreCompleteAndInPriorityOrder()
    {
        var user = await _client.RegisterAsync();
        (string Name, int Priority)[] providers = [("echo", 5), ("alpha", 1), ("delta", 5), ("charlie", 3), ("bravo", 1)];
        foreach (var (name, priority) in providers)
        {
            var created = await _client.ApiPostAsync("/api/v1/providers", new { name, kind = "openai-compatible", baseUrl = fixture.Secondary.OpenAiBase, priority, models = new[] { new { id = "m-" + name } } }, user.AccessToken);
            Assert.Equal(HttpStatusCode.Created, created.Status);
        }

        var byPriority = await _client.WalkAsync("/api/v1/providers", 2, user.AccessToken);
        var byNameDesc = await _client.WalkAsync("/api/v1/providers?sortBy=name&sortOrder=desc", 2, user.AccessToken);
        var ofKind = await _client.WalkAsync("/api/v1/providers?status=OpenAI-Compatible", 2, user.AccessToken);

        // Equal priorities keep the order they were added in, as the gateway tries them.
        Assert.Equal(["alpha", "bravo", "charlie", "echo", "delta"], byPriority.Select(p => p["name"]!.GetValue<string>()));
        Assert.Equal(["echo", "delta", "charlie", "bravo", "alpha"], byNameDesc.Select(p => p["name"]!.GetValue<string>()));
        Assert.Equal(5, ofKind.Count);
        Assert.Empty((await _client.ApiGetAsync("/api/v1/providers?status=ollama", user.AccessToken)).Data.AsArray());
    }

    [Fact]
    public async Task Gateway_TriesTheWorkspacesProvidersInPriorityOrder_AndFollowsAChangeOfPriority()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        var later = await _client.ApiPostAsync("/api/v1/providers", new { name = "later", kind = "openai-compatible", baseUrl = fixture.Secondary.OpenAiBase, priority = 20, models = new[] { new { id = "shared-model", upstreamModel = "from-later" } } }, user.AccessToken);
        var first = await _client.ApiPostAsync("/api/v1/providers", new { name = "first", kind = "openai-compatible", baseUrl = fixture.Primary.OpenAiBase, priority = 10, models = new[] { new { id = "shared-model", upstreamModel = "from-first" } } }, user.AccessToken);
        var body = new { model = "shared-model", messages = new[] { new { role = "user", content = "which" } } };

        var before = await _client.ApiPostAsync("/v1/chat/completions", body, key);
        await _client.ApiPutAsync($"/api/v1/providers/{later.Data["id"]!.GetValue<string>()}", new { priority = 1 }, user.AccessToken);
        var after = await _client.ApiPostAsync("/v1/chat/completions", body, key);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.OK, before.Status);
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.Single(fixture.Primary.Received, r => r.Body?["model"]?.ToString() == "from-first");
        Assert.Single(fixture.Secondary.Received, r => r.Body?["model"]?.ToString() == "from-later");
    }

    [Fact]
    public async Task List_CursorOfAnotherOrder_Is422()
    {
        var user = await _client.RegisterAsync();
        await _client.ApiPostAsync("/api/v1/providers", Provider("one"), user.AccessToken);
        await _client.ApiPostAsync("/api/v1/providers", Provider("two"), user.AccessToken);

        var byName = await _client.CursorAsync("/api/v1/providers?sortBy=name", 1, user.AccessToken);
        var response = await _client.PageAfterAsync("/api/v1/providers", byName, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
    }

    private string ReadStoreFiles()
    {
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(fixture.Factory.DataDirectory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            text.Append(reader.ReadToEnd());
        }

        return text.ToString();
    }
}
