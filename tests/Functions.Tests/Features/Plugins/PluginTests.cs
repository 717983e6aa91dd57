using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Plugins;

/// <summary>Plugins through the API: manifests, capabilities, config secrets, execution (sync and async), status, nodes and the assistant.</summary>
public sealed class PluginTests(PluginFixture fixture) : IClassFixture<PluginFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private string Url(string path) => fixture.ServerUrl + path;

    [Fact]
    public async Task List_ShowsTheBuiltIns_ThenInstalledPlugins_WithTheirGrants()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("acme-echo", Url("/echo")));

        var list = await _client.ApiGetAsync("/api/v1/plugins", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, list.Status);
        var ids = list.Data.AsArray().Select(p => p!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["calculator", "current-time", "json-transform", "text-stats", "web-reader", "acme-echo"], ids);
        var echo = list.Data.AsArray().Single(p => p!["id"]!.GetValue<string>() == "acme-echo")!;
        Assert.False(echo["builtin"]!.GetValue<bool>());
        Assert.True(echo["enabled"]!.GetValue<bool>());
        Assert.Equal(["127.0.0.1"], echo["granted"]!["network"]!.AsArray().Select(h => h!.GetValue<string>()));
        Assert.Equal("http", echo["runtime"]!["kind"]!.GetValue<string>());
        Assert.True(list.Data.AsArray().Where(p => p!["builtin"]!.GetValue<bool>()).All(p => p!["enabled"]!.GetValue<bool>()));
    }

    [Theory]
    [InlineData("id", "\"Not An Id\"", "manifest.id")]
    [InlineData("version", "\"one\"", "manifest.version")]
    [InlineData("runtime", "{\"kind\":\"builtin\"}", "manifest.runtime.kind")]
    [InlineData("runtime", "{\"kind\":\"ftp\"}", "manifest.runtime")]
    [InlineData("capabilities", "{\"network\":[\"elsewhere.example.com\"]}", "manifest.capabilities.network")]
    [InlineData("inputSchema", "{\"type\":5}", "manifest.inputSchema")]
    [InlineData("outputSchema", "{\"$ref\":\"https://example.com/remote.json\"}", "manifest.outputSchema")]
    [InlineData("runtime", "{\"kind\":\"workflow\",\"workflowId\":\"wf_x\"}", "manifest.capabilities.workflows")]
    public async Task Install_WithAnInvalidManifest_Is422NamingTheField(string field, string value, string expected)
    {
        var user = await _client.RegisterAsync();
        var manifest = Manifests.Http("bad-one", Url("/echo"));
        manifest[field] = JsonNode.Parse(value);

        var installed = await _client.ApiPostAsync("/api/v1/plugins", new JsonObject { ["manifest"] = manifest }, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, installed.Status);
        Assert.Contains(installed.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == expected);
    }

    [Fact]
    public async Task Install_PrivateTargetNotAllowListed_TakenId_AndGrantBeyondTheManifest_AreRefused()
    {
        var user = await _client.RegisterAsync();
        var local = Url("/echo").Replace("127.0.0.1", "localhost", StringComparison.Ordinal);

        var privateTarget = await _client.ApiPostAsync("/api/v1/plugins",
            new JsonObject { ["manifest"] = Manifests.Http("local-one", local, capabilities: new { network = new[] { "localhost" } }) }, user.AccessToken);
        var builtinId = await _client.ApiPostAsync("/api/v1/plugins", new JsonObject { ["manifest"] = Manifests.Http("calculator", Url("/echo")) }, user.AccessToken);
        var beyond = await _client.ApiPostAsync("/api/v1/plugins",
            new JsonObject { ["manifest"] = Manifests.Http("greedy", Url("/echo")), ["grant"] = Manifests.Node(new { network = new[] { "127.0.0.1", "evil.example.com" } }) },
            user.AccessToken);
        await _client.InstallAsync(user, Manifests.Http("twice", Url("/echo")));
        var again = await _client.ApiPostAsync("/api/v1/plugins", new JsonObject { ["manifest"] = Manifests.Http("twice", Url("/echo")) }, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, privateTarget.Status);
        Assert.Contains("private", privateTarget.Body!["error"]!["details"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, builtinId.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, beyond.Status);
        Assert.Contains("evil.example.com", beyond.Body!["error"]!["details"]![0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
    }

    [Fact]
    public async Task Execute_Sync_PostsInputAndConfigToThePlugin_AndAnswersItsOutput()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("echo-sync", Url("/echo")));

        var executed = await _client.ExecutePluginAsync(user, "echo-sync", new { text = "hello" });

        Assert.Equal(HttpStatusCode.OK, executed.Status);
        Assert.Equal("succeeded", executed.Data["status"]!.GetValue<string>());
        Assert.Equal("hello", executed.Data["output"]!["echo"]!["text"]!.GetValue<string>());
        Assert.Equal("echo-sync", executed.Data["output"]!["pluginHeader"]!.GetValue<string>());
        var executionId = executed.Data["executionId"]!.GetValue<string>();
        Assert.Equal(executionId, executed.Data["output"]!["executionId"]!.GetValue<string>());
        var stored = await _client.ApiGetAsync(executed.Data["statusUrl"]!.GetValue<string>(), user.AccessToken);
        Assert.Equal("succeeded", stored.Data["status"]!.GetValue<string>());
        Assert.Equal("api", stored.Data["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task Execute_BadInput_BadOutput_PluginError_AndTimeout_AreClearErrors()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("strict", Url("/echo")));
        await _client.InstallAsync(user, Manifests.Http("liar", Url("/bad-output")));
        await _client.InstallAsync(user, Manifests.Http("broken", Url("/fail")));
        await _client.InstallAsync(user, Manifests.Http("sleepy", Url("/slow"), timeoutSeconds: 1));

        var badInput = await _client.ExecutePluginAsync(user, "strict", new { text = 42 });
        var badOutput = await _client.ExecutePluginAsync(user, "liar", new { text = "x" });
        var failed = await _client.ExecutePluginAsync(user, "broken", new { text = "x" });
        var slow = await _client.ExecutePluginAsync(user, "sleepy", new { text = "x" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, badInput.Status);
        Assert.Contains(badInput.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == "input.text");
        Assert.Equal(HttpStatusCode.BadGateway, badOutput.Status);
        Assert.Equal("PLUGIN_OUTPUT_INVALID", badOutput.ErrorCode);
        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal("PLUGIN_FAILED", failed.ErrorCode);
        Assert.Contains("boom from the plugin", failed.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.Status);
        Assert.Equal("PLUGIN_TIMEOUT", slow.ErrorCode);
        var status = await _client.ApiGetAsync("/api/v1/plugins/broken/status", user.AccessToken);
        Assert.Equal("failing", status.Data["health"]!.GetValue<string>());
        Assert.Equal("PLUGIN_FAILED", Assert.Single(status.Data["executions"]!.AsArray())!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Config_SecretFields_AreWriteOnly_EncryptedAtRest_AndReachOnlyThePlugin()
    {
        var user = await _client.RegisterAsync();
        var configSchema = new
        {
            type = "object",
            required = new[] { "token" },
            properties = new { token = new { type = "string", secret = true }, greeting = new { type = "string" } },
        };
        await _client.InstallAsync(user, Manifests.Http("configured", Url("/echo"), configSchema: configSchema));
        const string secret = "tok-very-secret-4711";

        var unconfigured = await _client.ExecutePluginAsync(user, "configured", new { text = "x" });
        var wrongType = await _client.ApiPutAsync("/api/v1/plugins/configured/config", new { token = 5 }, user.AccessToken);
        var saved = await _client.ApiPutAsync("/api/v1/plugins/configured/config", new { token = secret, greeting = "hi" }, user.AccessToken);
        var kept = await _client.ApiPutAsync("/api/v1/plugins/configured/config", new { greeting = "hello" }, user.AccessToken);
        var read = await _client.ApiGetAsync("/api/v1/plugins/configured/config", user.AccessToken);
        var executed = await _client.ExecutePluginAsync(user, "configured", new { text = "x" });
        var cleared = await _client.ApiPutAsync("/api/v1/plugins/configured/config", new JsonObject { ["token"] = null }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, unconfigured.Status);
        Assert.Equal("PLUGIN_NOT_CONFIGURED", unconfigured.ErrorCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongType.Status);
        Assert.Equal(HttpStatusCode.OK, saved.Status);
        Assert.Equal(["token"], read.Data["secretsSet"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("hello", read.Data["values"]!["greeting"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, executed.Status);
        // The plugin gets the secret it was configured with (that is what it is for) ...
        Assert.Equal(secret, fixture.Received["/echo"].Last()["config"]!["token"]!.GetValue<string>());
        // ... but no API response shows it, and the stored row holds it sealed.
        var list = await _client.ApiGetAsync("/api/v1/plugins", user.AccessToken);
        foreach (var body in new[] { saved.Body!, kept.Body!, read.Body!, list.Body! })
        {
            Assert.DoesNotContain(secret, body.ToJsonString(), StringComparison.Ordinal);
        }

        var row = await fixture.Factory.Services.GetRequiredService<IEntityStore>().GetAsync("plugins", user.PersonalWorkspaceId, "configured", CancellationToken.None);
        Assert.DoesNotContain(secret, row!.Json, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, cleared.Status);
    }

    [Fact]
    public async Task Capabilities_AHostTheWorkspaceDidNotGrant_IsRefusedAndLogged()
    {
        var user = await _client.RegisterAsync();
        // The plugin asks for 127.0.0.1; the workspace grants it nothing.
        await _client.InstallAsync(user, Manifests.Http("ungranted", Url("/echo")), grant: new { network = Array.Empty<string>() });
        // The URL comes from the config: the plugin may only call hosts it was granted.
        var configSchema = new { type = "object", required = new[] { "url" }, properties = new { url = new { type = "string" } } };
        var roaming = Manifests.Http("roaming", Url("/echo"), configSchema: configSchema, capabilities: new { network = new[] { "127.0.0.1", "api.example.com" } });
        roaming["runtime"]!.AsObject().Remove("url");
        await _client.InstallAsync(user, roaming, grant: new { network = new[] { "api.example.com" } });
        await _client.ApiPutAsync("/api/v1/plugins/roaming/config", new { url = Url("/echo") }, user.AccessToken);
        var calls = fixture.Received.GetValueOrDefault("/echo")?.Count ?? 0;

        var refused = await _client.ExecutePluginAsync(user, "ungranted", new { text = "x" });
        var roamed = await _client.ExecutePluginAsync(user, "roaming", new { text = "x" });

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("CAPABILITY_DENIED", refused.ErrorCode);
        Assert.Equal(HttpStatusCode.Forbidden, roamed.Status);
        Assert.Equal(calls, fixture.Received.GetValueOrDefault("/echo")?.Count ?? 0);
        Assert.Contains(fixture.Logs.Logs, l => l.Message.Contains("Plugin ungranted", StringComparison.Ordinal) && l.Message.Contains("network access to 127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(fixture.Logs.Logs, l => l.Message.Contains("Plugin roaming", StringComparison.Ordinal) && l.Message.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Execute_Async_Answers202_AndTheQueueFunctionRunsIt()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("later", Url("/echo")));

        var accepted = await _client.ExecutePluginAsync(user, "later", new { text = "queued" }, async: true);

        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Equal("queued", accepted.Data["status"]!.GetValue<string>());
        var url = accepted.Data["statusUrl"]!.GetValue<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonNode execution;
        do
        {
            await Task.Delay(50);
            execution = (await _client.ApiGetAsync(url, user.AccessToken)).Data;
        }
        while (execution["status"]!.GetValue<string>() is "queued" or "running" && DateTime.UtcNow < deadline);

        Assert.Equal("succeeded", execution["status"]!.GetValue<string>());
        Assert.Equal("queued", execution["output"]!["echo"]!["text"]!.GetValue<string>());
        var status = await _client.ApiGetAsync("/api/v1/plugins/later/status", user.AccessToken);
        Assert.Equal("healthy", status.Data["health"]!.GetValue<string>());
        Assert.Equal(1.0, status.Data["successRate"]!.GetValue<double>());
    }

    [Fact]
    public async Task DisableEnableAndDelete_ChangeWhatRuns()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("switchy", Url("/echo")));

        var disabled = await _client.ApiPostAsync("/api/v1/plugins/calculator/disable", null, user.AccessToken);
        var refused = await _client.ExecutePluginAsync(user, "calculator", new { expression = "1+1" });
        var enabled = await _client.ApiPostAsync("/api/v1/plugins/calculator/enable", null, user.AccessToken);
        var ran = await _client.ExecutePluginAsync(user, "calculator", new { expression = "1+1" });
        var deleteBuiltin = await _client.ApiDeleteAsync("/api/v1/plugins/calculator", user.AccessToken);
        var deleted = await _client.ApiDeleteAsync("/api/v1/plugins/switchy", user.AccessToken);
        var gone = await _client.ExecutePluginAsync(user, "switchy", new { text = "x" });

        Assert.False(disabled.Data["enabled"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.True(enabled.Data["enabled"]!.GetValue<bool>());
        Assert.Equal(2, ran.Data["output"]!["result"]!.GetValue<double>());
        Assert.Equal(HttpStatusCode.Conflict, deleteBuiltin.Status);
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task Delete_ThenInstallTheSameId_StartsWithoutThePredecessorsExecutions()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("reborn", Url("/echo")));
        var executed = await _client.ExecutePluginAsync(user, "reborn", new { text = "first life" });
        var executionId = executed.Data["executionId"]!.GetValue<string>();

        await _client.ApiDeleteAsync("/api/v1/plugins/reborn", user.AccessToken);
        await _client.InstallAsync(user, Manifests.Http("reborn", Url("/echo")));
        var status = await _client.ApiGetAsync("/api/v1/plugins/reborn/status", user.AccessToken);
        var old = await _client.ApiGetAsync($"/api/v1/plugins/reborn/executions/{executionId}", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, executed.Status);
        Assert.Empty(status.Data["executions"]!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, old.Status);
    }

    [Fact]
    public async Task Upgrade_KeepsConfigStateAndHistory_AndGrantsNothingNewUnasked()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("upgradable", Url("/echo"), configSchema: TokenConfig));
        await _client.ApiPutAsync("/api/v1/plugins/upgradable/config", new { token = "tok-kept" }, user.AccessToken);
        await _client.ExecutePluginAsync(user, "upgradable", new { text = "v1" });
        var v2 = Manifests.Http("upgradable", Url("/echo"), capabilities: new { network = new[] { "127.0.0.1", "api.example.org" } }, configSchema: TokenConfig);
        v2["version"] = "2.0.0";

        var upgraded = await _client.ApiPutAsync("/api/v1/plugins/upgradable", new JsonObject { ["manifest"] = v2 }, user.AccessToken);
        var executed = await _client.ExecutePluginAsync(user, "upgradable", new { text = "v2" });
        var status = await _client.ApiGetAsync("/api/v1/plugins/upgradable/status", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, upgraded.Status);
        Assert.Equal("2.0.0", upgraded.Data["plugin"]!["version"]!.GetValue<string>());
        Assert.Equal("1.0.0", upgraded.Data["previousVersion"]!.GetValue<string>());
        Assert.Equal(["network:api.example.org"], upgraded.Data["notGranted"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["127.0.0.1"], upgraded.Data["plugin"]!["granted"]!["network"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Empty(upgraded.Data["secretsCleared"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, executed.Status);
        Assert.Equal("tok-kept", fixture.Received["/echo"].Last()["config"]!["token"]!.GetValue<string>());
        Assert.Equal(2, status.Data["executions"]!.AsArray().Count);
    }

    [Fact]
    public async Task Upgrade_ThatCouldReachANewHost_ClearsTheSecrets()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("moving", Url("/echo"), configSchema: TokenConfig));
        await _client.ApiPutAsync("/api/v1/plugins/moving/config", new { token = "tok-stays-home" }, user.AccessToken);
        var elsewhere = new UriBuilder(Url("/echo")) { Port = new Uri(Url("/echo")).Port + 1 }.Uri.ToString();
        var moved = Manifests.Http("moving", elsewhere, configSchema: TokenConfig);
        moved["version"] = "1.0.1";

        var upgraded = await _client.ApiPutAsync("/api/v1/plugins/moving", new JsonObject { ["manifest"] = moved }, user.AccessToken);
        var config = await _client.ApiGetAsync("/api/v1/plugins/moving/config", user.AccessToken);
        var executed = await _client.ExecutePluginAsync(user, "moving", new { text = "x" });

        Assert.Equal(HttpStatusCode.OK, upgraded.Status);
        Assert.Equal(["token"], upgraded.Data["secretsCleared"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Empty(config.Data["secretsSet"]!.AsArray());
        Assert.Equal(HttpStatusCode.Conflict, executed.Status);
        Assert.Equal("PLUGIN_NOT_CONFIGURED", executed.ErrorCode);
    }

    [Fact]
    public async Task Upgrade_BadRequests_AreRefusedAndChangeNothing()
    {
        var user = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("steady", Url("/echo")));
        var other = Manifests.Http("not-steady", Url("/echo"));
        var broken = Manifests.Http("steady", Url("/echo"));
        broken["version"] = "two";

        var wrongId = await _client.ApiPutAsync("/api/v1/plugins/steady", new JsonObject { ["manifest"] = other }, user.AccessToken);
        var invalid = await _client.ApiPutAsync("/api/v1/plugins/steady", new JsonObject { ["manifest"] = broken }, user.AccessToken);
        var builtin = await _client.ApiPutAsync("/api/v1/plugins/calculator", new JsonObject { ["manifest"] = Manifests.Http("calculator", Url("/echo")) }, user.AccessToken);
        var missing = await _client.ApiPutAsync("/api/v1/plugins/nowhere", new JsonObject { ["manifest"] = Manifests.Http("nowhere", Url("/echo")) }, user.AccessToken);
        var foreign = await _client.ApiPutAsync("/api/v1/plugins/steady", new JsonObject { ["manifest"] = Manifests.Http("steady", Url("/echo")) }, stranger.AccessToken);
        var after = await _client.ApiGetAsync("/api/v1/plugins/steady", user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongId.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
        Assert.Contains(invalid.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == "manifest.version");
        Assert.Equal(HttpStatusCode.Conflict, builtin.Status);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.NotFound, foreign.Status);
        Assert.Equal("1.0.0", after.Data["version"]!.GetValue<string>());
    }

    private static readonly object TokenConfig = new
    {
        type = "object",
        required = new[] { "token" },
        properties = new { token = new { type = "string", secret = true } },
    };

    [Fact]
    public async Task AnotherWorkspace_CannotSeeRunConfigureOrRemoveThePlugin()
    {
        var owner = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        await _client.InstallAsync(owner, Manifests.Http("private-echo", Url("/echo")));

        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync("/api/v1/plugins/private-echo", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ExecutePluginAsync(stranger, "private-echo", new { text = "x" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPutAsync("/api/v1/plugins/private-echo/config", new { }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync("/api/v1/plugins/private-echo", stranger.AccessToken)).Status);
        Assert.DoesNotContain((await _client.ApiGetAsync("/api/v1/plugins", stranger.AccessToken)).Data.AsArray(), p => p!["id"]!.GetValue<string>() == "private-echo");
        Assert.Equal(HttpStatusCode.OK, (await _client.ExecutePluginAsync(owner, "private-echo", new { text = "x" })).Status);
    }

    [Fact]
    public async Task ApiKeys_NeedThePluginScopes()
    {
        var user = await _client.RegisterAsync();
        var reader = await _client.CreateKeyAsync(user, ["plugins:read"]);
        var runner = await _client.CreateKeyAsync(user, ["plugins:read", "plugins:execute"]);

        var listed = await _client.ApiGetAsync("/api/v1/plugins", null, Users.ApiKey(reader));
        var refused = await _client.ApiPostAsync("/api/v1/plugins/calculator/execute", new { input = new { expression = "2" } }, null, Users.ApiKey(reader));
        var ran = await _client.ApiPostAsync("/api/v1/plugins/calculator/execute", new { input = new { expression = "2" } }, null, Users.ApiKey(runner));
        var install = await _client.ApiPostAsync("/api/v1/plugins", new JsonObject { ["manifest"] = Manifests.Http("keyed", Url("/echo")) }, null, Users.ApiKey(runner));

        Assert.Equal(HttpStatusCode.OK, listed.Status);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal(HttpStatusCode.OK, ran.Status);
        Assert.Equal(HttpStatusCode.Forbidden, install.Status);
    }

    [Theory]
    [InlineData("calculator", """{"expression":"2*(3+4)^2 - sqrt(16) / 2"}""", "result", "96")]
    [InlineData("calculator", """{"expression":"max(1, 7, 3) % 4 + round(2.456, 2)"}""", "result", "5.46")]
    [InlineData("text-stats", """{"text":"One two three. Four five!\n\nSix?"}""", "words", "6")]
    [InlineData("text-stats", """{"text":"One two three. Four five!\n\nSix?"}""", "sentences", "3")]
    [InlineData("text-stats", """{"text":"One two three. Four five!\n\nSix?"}""", "paragraphs", "2")]
    [InlineData("json-transform", """{"operation":"pick","data":{"a":{"b":[{"c":"deep"}]}},"fields":{"found":"a.b[0].c"}}""", "result", """{"found":"deep"}""")]
    [InlineData("json-transform", """{"operation":"csv_to_json","csv":"name,qty\n\"Widget, large\",3\n"}""", "rows", """[{"name":"Widget, large","qty":"3"}]""")]
    [InlineData("json-transform", """{"operation":"json_to_csv","data":[{"a":1,"b":"=cmd"}]}""", "csv", "\"a,b\\r\\n1,\\\"'=cmd\\\"\\r\\n\"")]
    [InlineData("json-transform", """{"operation":"flatten","data":{"a":{"b":[1,2]}}}""", "result", """{"a.b[0]":1,"a.b[1]":2}""")]
    public async Task Builtins_ComputeWhatTheyDescribe(string plugin, string input, string field, string expected)
    {
        var user = await _client.RegisterAsync();

        var executed = await _client.ExecutePluginAsync(user, plugin, JsonNode.Parse(input)!);

        Assert.True(executed.Status == HttpStatusCode.OK, executed.Body?.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), executed.Data["output"]![field]), $"{field}: {executed.Data["output"]![field]?.ToJsonString()}");
    }

    [Fact]
    public async Task Calculator_AndCurrentTime_RefuseWhatTheyCannotDo()
    {
        var user = await _client.RegisterAsync();

        var nested = await _client.ExecutePluginAsync(user, "calculator", new { expression = new string('(', 200) + "1" + new string(')', 200) });
        var code = await _client.ExecutePluginAsync(user, "calculator", new { expression = "process.exit(1)" });
        var zone = await _client.ExecutePluginAsync(user, "current-time", new { timeZone = "Mars/Olympus" });
        var paris = await _client.ExecutePluginAsync(user, "current-time", new { timeZone = "Europe/Paris" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, nested.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, code.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, zone.Status);
        Assert.Equal(HttpStatusCode.OK, paris.Status);
        var expected = TimeZoneInfo.ConvertTime(fixture.Factory.Clock.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
        Assert.Equal(expected.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), paris.Data["output"]!["date"]!.GetValue<string>());
        Assert.Equal(expected.ToString("zzz", System.Globalization.CultureInfo.InvariantCulture), paris.Data["output"]!["utcOffset"]!.GetValue<string>());
    }

    [Fact]
    public async Task WebReader_ReturnsThePagesText_AndRefusesInternalAddressesNotAllowListed()
    {
        var user = await _client.RegisterAsync();

        var read = await _client.ExecutePluginAsync(user, "web-reader", new { url = Url("/page") });
        var metadata = await _client.ExecutePluginAsync(user, "web-reader", new { url = "http://169.254.169.254/latest/meta-data/" });
        var localhost = await _client.ExecutePluginAsync(user, "web-reader", new { url = Url("/page").Replace("127.0.0.1", "localhost", StringComparison.Ordinal) });

        Assert.True(read.Status == HttpStatusCode.OK, read.Body?.ToJsonString());
        var text = read.Data["output"]!["text"]!.GetValue<string>();
        Assert.Equal("Plugin & Page", read.Data["output"]!["title"]!.GetValue<string>());
        Assert.Contains("Welcome", text, StringComparison.Ordinal);
        Assert.Contains("Second bold paragraph.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SCRIPT", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadGateway, metadata.Status);
        Assert.Equal("PLUGIN_UNREACHABLE", metadata.ErrorCode);
        Assert.Equal(HttpStatusCode.BadGateway, localhost.Status);
    }

    [Fact]
    public async Task PluginNode_RunsPluginsInsideAWorkflow_WithReferencesResolved()
    {
        var user = await _client.RegisterAsync();
        await _client.InstallAsync(user, Manifests.Http("node-echo", Url("/echo")));
        var workflow = await _client.CreateWorkflowAsync(user, Line(
            new { result = "{{calc.result}}", echoed = "{{echo.echo.text}}" },
            Node("calc", "plugin", new { pluginId = "calculator", input = new { expression = "{{inputs.a}} * 10" } }),
            Node("echo", "plugin", new { pluginId = "node-echo", input = new { text = "total {{calc.result}}" } })));

        var run = await _client.WaitForAsync(user, await _client.ExecuteAsync(user, workflow, new { a = 4 }));

        Assert.True(run["status"]!.GetValue<string>() == "succeeded", run.ToJsonString());
        Assert.Equal(40, run["outputs"]!["result"]!.GetValue<double>());
        Assert.Equal("total 40", run["outputs"]!["echoed"]!.GetValue<string>());
        var executions = (await _client.ApiGetAsync("/api/v1/plugins/node-echo/status", user.AccessToken)).Data["executions"]!.AsArray();
        Assert.Equal("node", Assert.Single(executions)!["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task PluginNode_APluginFailure_FailsTheNodeWithTheCode()
    {
        var user = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { r = "{{calc.result}}" },
            Node("calc", "plugin", new { pluginId = "calculator", input = new { expression = "1/" } })));
        var missing = await _client.CreateWorkflowAsync(user, Line(new { r = "{{p.x}}" }, Node("p", "plugin", new { pluginId = "nothing-here", input = new { } })));

        var run = await _client.WaitForAsync(user, await _client.ExecuteAsync(user, workflow));
        var missingRun = await _client.WaitForAsync(user, await _client.ExecuteAsync(user, missing));

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("PLUGIN_INPUT_INVALID", run["error"]!["code"]!.GetValue<string>());
        Assert.Equal("calc", run["error"]!["nodeId"]!.GetValue<string>());
        Assert.Equal("failed", missingRun["status"]!.GetValue<string>());
        Assert.Equal("PLUGIN_NOT_FOUND", missingRun["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task WorkflowPlugin_RunsTheWorkspacesWorkflow_OnlyWhenGrantedWorkflows()
    {
        var user = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { shout = "{{inputs.text}}!" }));
        JsonObject Manifest(string id) => new()
        {
            ["id"] = id,
            ["name"] = "Shout",
            ["version"] = "2.1.0",
            ["runtime"] = new JsonObject { ["kind"] = "workflow", ["workflowId"] = workflow },
            ["capabilities"] = new JsonObject { ["workflows"] = true },
            ["inputSchema"] = Manifests.Node(new { type = "object", required = new[] { "text" } }),
        };
        await _client.InstallAsync(user, Manifest("shout"));
        await _client.InstallAsync(user, Manifest("muted"), grant: new { workflows = false });
        var unknown = Manifest("ghost");
        unknown["runtime"]!["workflowId"] = "wf_missing";

        var shouted = await _client.ExecutePluginAsync(user, "shout", new { text = "hey" });
        var muted = await _client.ExecutePluginAsync(user, "muted", new { text = "hey" });
        var ghost = await _client.ApiPostAsync("/api/v1/plugins", new JsonObject { ["manifest"] = unknown }, user.AccessToken);

        Assert.True(shouted.Status == HttpStatusCode.OK, shouted.Body?.ToJsonString());
        Assert.Equal("hey!", shouted.Data["output"]!["shout"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, muted.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ghost.Status);
    }

    [Fact]
    public async Task WorkflowPlugin_UsingAStoredCredential_NeedsThatProviderGranted()
    {
        var user = await _client.RegisterAsync();
        var credential = await _client.ApiPostAsync("/api/v1/integrations",
            new { provider = "http_bearer", name = "echo token", credentials = new { baseUrl = fixture.ServerUrl, token = "bearer-plugin-secret" } }, user.AccessToken);
        Assert.True(credential.Status == HttpStatusCode.Created, credential.Body?.ToJsonString());
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { said = "{{call.body.output.echo.text}}", auth = "{{call.body.output.authorization}}" },
            Node("call", "http_request", new { method = "POST", url = Url("/echo"), body = new { input = new { text = "{{inputs.text}}" } }, credentialId = credential.Data["id"]!.GetValue<string>() })));
        JsonObject Manifest(string id) => new()
        {
            ["id"] = id,
            ["name"] = "Credentialed",
            ["version"] = "1.0.0",
            ["runtime"] = new JsonObject { ["kind"] = "workflow", ["workflowId"] = workflow },
            ["capabilities"] = new JsonObject { ["workflows"] = true, ["credentials"] = new JsonArray("http_bearer") },
        };
        await _client.InstallAsync(user, Manifest("with-token"));
        await _client.InstallAsync(user, Manifest("without-token"), grant: new { workflows = true, credentials = Array.Empty<string>() });

        var allowed = await _client.ExecutePluginAsync(user, "with-token", new { text = "hi" });
        var refused = await _client.ExecutePluginAsync(user, "without-token", new { text = "hi" });

        Assert.True(allowed.Status == HttpStatusCode.OK, allowed.Body?.ToJsonString());
        Assert.Equal("hi", allowed.Data["output"]!["said"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Contains("credentials:http_bearer", refused.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("bearer-plugin-secret", allowed.Body!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assistant_ListsPlugins_AndRunsOne()
    {
        var user = await _client.RegisterAsync();
        fixture.Primary.EnqueueToolCalls(("list_plugins", new { }));
        fixture.Primary.EnqueueToolCalls(("run_plugin", new { plugin_id = "calculator", input = new { expression = "6*7" } }));
        fixture.Primary.EnqueueReply("It is 42.");

        var reply = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "What is 6 times 7?", model = "solo" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("It is 42.", reply.Data["response"]!.GetValue<string>());
        var rounds = fixture.Primary.Received.Where(r => r.Path == "/v1/chat/completions").TakeLast(3).Select(r => r.Body!).ToList();
        Assert.Contains("run_plugin", rounds[0]["tools"]!.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>()));
        var results = rounds[2]["messages"]!.AsArray().Where(m => m!["role"]!.GetValue<string>() == "tool").Select(m => m!["content"]!.GetValue<string>()).ToList();
        Assert.Contains(results, r => r.Contains("web-reader", StringComparison.Ordinal));
        Assert.Contains(results, r => r.Contains("\"result\":42", StringComparison.Ordinal));
        var status = await _client.ApiGetAsync("/api/v1/plugins/calculator/status", user.AccessToken);
        Assert.Equal("assistant", Assert.Single(status.Data["executions"]!.AsArray())!["source"]!.GetValue<string>());
    }
}
