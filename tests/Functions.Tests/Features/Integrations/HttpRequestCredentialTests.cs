using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Integrations;

/// <summary>The http_request node with config.credentialId: by reference, to its own hosts only, never shown.</summary>
public sealed class HttpRequestCredentialTests()
    // localhost is reachable for http_request here, so only the credential's own binding keeps it from going there.
    : IntegrationTestBase(new Dictionary<string, string?> { ["Http:AllowedPrivateHosts"] = "127.0.0.1,localhost" })
{
    private async Task<JsonNode> RunCallAsync(TestUser user, string url, string credentialId, bool failOnErrorStatus = true)
    {
        var workflow = await Client.CreateWorkflowAsync(user, Line(new { result = "{{call.body}}" },
            Node("call", "http_request", new { url, credentialId, failOnErrorStatus })));
        return await Client.WaitForAsync(user, await Client.ExecuteAsync(user, workflow));
    }

    private async Task<string> EverythingShownAsync(JsonNode run)
    {
        using var sse = Factory.CreateClient();
        sse.DefaultRequestHeaders.Authorization = new("Bearer", Owner.AccessToken);
        return run.ToJsonString() + await sse.GetStringAsync($"/api/v1/executions/{run["id"]!.GetValue<string>()}/events") + Logs.All;
    }

    [Fact]
    public async Task Node_WithACredential_SendsItToItsHost_AndTheRunEventsAndLogsNeverShowIt()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken);

        var run = await RunCallAsync(Owner, Upstream.BaseUrl + "/echo", id);

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal("Bearer " + CredentialUpstream.GoodToken, Upstream.Received.Single(c => c.Path == "/echo").Authorization);
        // The upstream echoed the header: the node's output keeps the shape with the secret scrubbed.
        Assert.Equal("[REDACTED]", NodeOf(run, "call")["output"]!["body"]!["authorization"]!.GetValue<string>());
        Assert.DoesNotContain(CredentialUpstream.GoodToken, await EverythingShownAsync(run), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_ToAnotherHost_IsRefused_AndNothingIsSent()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken);
        var otherHost = Upstream.BaseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal) + "/echo";
        var github = (await Client.ApiPostAsync("/api/v1/integrations", new { provider = "github", name = "gh", credentials = new { token = "ghp_never_sent_0b5e" } }, Owner.AccessToken))
            .Data["id"]!.GetValue<string>();

        var generic = await RunCallAsync(Owner, otherHost, id);
        var named = await RunCallAsync(Owner, Upstream.BaseUrl + "/echo", github);

        Assert.Equal("failed", generic["status"]!.GetValue<string>());
        Assert.Equal("CREDENTIAL_HOST_NOT_ALLOWED", generic["error"]!["code"]!.GetValue<string>());
        Assert.Contains(Upstream.BaseUrl, generic["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("CREDENTIAL_HOST_NOT_ALLOWED", named["error"]!["code"]!.GetValue<string>());
        Assert.Contains("api.github.com", named["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
        Assert.Contains(Logs.Entries, l => l.Contains(" 865 ", StringComparison.Ordinal) && l.Contains("localhost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Node_WithADeletedOrAnotherWorkspacesCredential_FailsClearly()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken);
        var stranger = await Client.RegisterAsync();

        var foreign = await RunCallAsync(stranger, Upstream.BaseUrl + "/echo", id);
        await Client.ApiDeleteAsync($"/api/v1/integrations/{id}", Owner.AccessToken);
        var deleted = await RunCallAsync(Owner, Upstream.BaseUrl + "/echo", id);

        Assert.Equal("CREDENTIAL_NOT_FOUND", foreign["error"]!["code"]!.GetValue<string>());
        Assert.Equal("failed", deleted["status"]!.GetValue<string>());
        Assert.Equal("CREDENTIAL_NOT_FOUND", deleted["error"]!["code"]!.GetValue<string>());
        Assert.Contains("deleted", deleted["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Node_RefusedWith401Or403_RaisesCredentialExpiredOnce()
    {
        const string revoked = "revoked-node-token-93ab";
        var id = await CreateBearerAsync(revoked);

        var first = await RunCallAsync(Owner, Upstream.BaseUrl + "/me", id);
        var second = await RunCallAsync(Owner, Upstream.BaseUrl + "/forbidden", id, failOnErrorStatus: false);

        Assert.Equal("failed", first["status"]!.GetValue<string>());
        Assert.Equal("HTTP_ERROR", first["error"]!["code"]!.GetValue<string>());
        Assert.Contains(id, first["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("succeeded", second["status"]!.GetValue<string>());
        var alarm = Assert.Single(await ExpiredEventsAsync(id));
        Assert.Equal(401, alarm.Payload["status"]!.GetValue<int>());
        Assert.Equal("expired", (await Client.ApiGetAsync($"/api/v1/integrations/{id}", Owner.AccessToken)).Data["status"]!.GetValue<string>());
        Assert.DoesNotContain(revoked, await EverythingShownAsync(first) + alarm.Payload.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_WithAHeaderKeyCredential_ReplacesAHeaderOfTheSameName()
    {
        var created = await Client.ApiPostAsync("/api/v1/integrations", new
        {
            provider = "http_header",
            name = "header key",
            credentials = new { baseUrl = Upstream.BaseUrl, headerName = "X-Api-Key", apiKey = CredentialUpstream.GoodToken },
        }, Owner.AccessToken);
        var workflow = await Client.CreateWorkflowAsync(Owner, Line(new { }, Node("call", "http_request", new
        {
            url = Upstream.BaseUrl + "/me",
            headers = new Dictionary<string, string> { ["X-Api-Key"] = "guessed" },
            credentialId = created.Data["id"]!.GetValue<string>(),
        })));

        var run = await Client.WaitForAsync(Owner, await Client.ExecuteAsync(Owner, workflow));

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(CredentialUpstream.GoodToken, Upstream.Received.Single().ApiKey);
    }

    [Fact]
    public async Task Workflow_WithANonStringCredentialId_Is422()
    {
        var created = await Client.ApiPostAsync("/api/v1/workflows", new JsonObject
        {
            ["name"] = "bad",
            ["definition"] = Line(new { }, Node("call", "http_request", new { url = Upstream.BaseUrl + "/me", credentialId = 42 })),
        }.ToJsonString(), Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        Assert.Contains("credentialId", Json(created), StringComparison.Ordinal);
    }
}
