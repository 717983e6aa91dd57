using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Features.Webhooks;

public sealed class WebhookCrudTests : WebhookTestBase
{
    [Fact]
    public async Task Create_WithoutSecret_GeneratesOneShownOnlyInTheCreateResponse()
    {
        var created = await CreateWebhookAsync("/ok", ["workflow.completed", "workflow.failed"]);
        var id = created["id"]!.GetValue<string>();
        var secret = created["secret"]!.GetValue<string>();

        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(Base64Pad(secret["whsec_".Length..])).Length);
        Assert.True(created["active"]!.GetValue<bool>());
        var got = await Client.ApiGetAsync($"/api/v1/webhooks/{id}", Owner.AccessToken);
        var list = await Client.ApiGetAsync("/api/v1/webhooks", Owner.AccessToken);
        var updated = await Client.ApiPutAsync($"/api/v1/webhooks/{id}", new { description = "changed" }, Owner.AccessToken);
        foreach (var body in new[] { got.Body!.ToJsonString(), list.Body!.ToJsonString(), updated.Body!.ToJsonString() })
        {
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
            Assert.DoesNotContain("\"secret\"", body, StringComparison.Ordinal);
        }

        Assert.Equal(["workflow.completed", "workflow.failed"], got.Data["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal(id, Assert.Single(list.Data.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal("changed", updated.Data["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task Secret_IsEncryptedAtRest()
    {
        var created = await CreateWebhookAsync("/ok", secret: "my-own-secret-0123456789");
        Assert.Equal("my-own-secret-0123456789", created["secret"]!.GetValue<string>());

        var store = Factory.Services.GetRequiredService<IEntityStore>();
        var row = await store.GetAsync("webhooks", Owner.PersonalWorkspaceId, created["id"]!.GetValue<string>(), CancellationToken.None);
        Assert.NotNull(row);
        Assert.DoesNotContain("my-own-secret-0123456789", row.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateAndDelete_Work_AndDeletedIs404()
    {
        var id = (await CreateWebhookAsync("/ok"))["id"]!.GetValue<string>();

        var updated = await Client.ApiPutAsync($"/api/v1/webhooks/{id}", new { url = Receiver.BaseUrl + "/other", events = new[] { "user.created" }, active = false }, Owner.AccessToken);
        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal(Receiver.BaseUrl + "/other", updated.Data["url"]!.GetValue<string>());
        Assert.False(updated.Data["active"]!.GetValue<bool>());

        Assert.Equal(HttpStatusCode.NoContent, (await Client.ApiDeleteAsync($"/api/v1/webhooks/{id}", Owner.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiGetAsync($"/api/v1/webhooks/{id}", Owner.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiDeleteAsync($"/api/v1/webhooks/{id}", Owner.AccessToken)).Status);
    }

    [Theory]
    [InlineData("ftp://example.com/hook", "url")]
    [InlineData("/relative", "url")]
    [InlineData("not a url", "url")]
    public async Task Create_WithABadUrl_Is422(string url, string field)
    {
        var created = await Client.ApiPostAsync("/api/v1/webhooks", new { url, events = new[] { "workflow.completed" } }, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        Assert.Contains(created.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task Create_WithNoOrUnknownEvents_Is422_NamingTheKnownEvents()
    {
        var none = await Client.ApiPostAsync("/api/v1/webhooks", new { url = Receiver.BaseUrl + "/ok", events = Array.Empty<string>() }, Owner.AccessToken);
        var unknown = await Client.ApiPostAsync("/api/v1/webhooks", new { url = Receiver.BaseUrl + "/ok", events = new[] { "workflow.completed", "order.shipped" } }, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, none.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unknown.Status);
        var message = unknown.Body!["error"]!["details"]!.AsArray().Single(d => d!["field"]!.GetValue<string>() == "events")!["message"]!.GetValue<string>();
        Assert.Contains("order.shipped", message, StringComparison.Ordinal);
        foreach (var known in new[] { "workflow.completed", "workflow.failed", "dataset.completed", "user.created", "webhook.test" })
        {
            Assert.Contains(known, message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://localhost:9/hook")]
    [InlineData("http://[::1]:9/hook")]
    [InlineData("http://192.168.1.10/hook")]
    public async Task Create_ToAnInternalAddress_Is422(string url)
    {
        var created = await Client.ApiPostAsync("/api/v1/webhooks", new { url, events = new[] { "workflow.completed" } }, Owner.AccessToken);
        var changed = await Client.ApiPutAsync($"/api/v1/webhooks/{(await CreateWebhookAsync("/ok"))["id"]}", new { url }, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, changed.Status);
        Assert.Equal("url", created.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_BeyondTwentyPerWorkspace_IsRefused()
    {
        for (var i = 0; i < 20; i++)
        {
            await CreateWebhookAsync("/ok");
        }

        var more = await Client.ApiPostAsync("/api/v1/webhooks", new { url = Receiver.BaseUrl + "/ok", events = new[] { "workflow.completed" } }, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, more.Status);
    }

    [Fact]
    public async Task AnotherWorkspacesWebhook_Is404Everywhere()
    {
        var id = (await CreateWebhookAsync("/ok"))["id"]!.GetValue<string>();
        var stranger = await Client.RegisterAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiGetAsync($"/api/v1/webhooks/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiPutAsync($"/api/v1/webhooks/{id}", new { description = "x" }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiDeleteAsync($"/api/v1/webhooks/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiGetAsync($"/api/v1/webhooks/{id}/deliveries", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiPostAsync($"/api/v1/webhooks/{id}/test", null, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiPostAsync($"/api/v1/webhooks/{id}/deliveries/dlv_x/redeliver", null, stranger.AccessToken)).Status);
        Assert.Empty((await Client.ApiGetAsync("/api/v1/webhooks", stranger.AccessToken)).Data.AsArray());
    }

    [Fact]
    public async Task MembersAndViewers_AreRefused_OwnersAndAdminsManage()
    {
        var team = (await Client.ApiPostAsync("/api/v1/workspaces", new { name = "Team" }, Owner.AccessToken)).Data["id"]!.GetValue<string>();
        var member = await Client.RegisterAsync();
        var admin = await Client.RegisterAsync();
        await Client.ApiPostAsync($"/api/v1/workspaces/{team}/members", new { userId = member.Id, role = "member" }, Owner.AccessToken);
        await Client.ApiPostAsync($"/api/v1/workspaces/{team}/members", new { userId = admin.Id, role = "admin" }, Owner.AccessToken);
        var inTeam = new Dictionary<string, string> { ["X-Workspace-Id"] = team };
        var body = new { url = Receiver.BaseUrl + "/ok", events = new[] { "workflow.completed" } };

        var byMember = await Client.ApiPostAsync("/api/v1/webhooks", body, member.AccessToken, inTeam);
        var listByMember = await Client.ApiGetAsync("/api/v1/webhooks", member.AccessToken, inTeam);
        var byAdmin = await Client.ApiPostAsync("/api/v1/webhooks", body, admin.AccessToken, inTeam);

        Assert.Equal(HttpStatusCode.Forbidden, byMember.Status);
        Assert.Equal(HttpStatusCode.Forbidden, listByMember.Status);
        Assert.Equal(HttpStatusCode.Created, byAdmin.Status);
        Assert.Single((await Client.ApiGetAsync("/api/v1/webhooks", Owner.AccessToken, inTeam)).Data.AsArray());
    }

    [Fact]
    public async Task ApiKeys_NeedTheWebhookScopes()
    {
        var reader = await Client.CreateKeyAsync(Owner, ["webhooks:read"]);
        var writer = await Client.CreateKeyAsync(Owner, ["webhooks:read", "webhooks:write"]);
        var other = await Client.CreateKeyAsync(Owner, ["tasks:read"]);
        var body = new { url = Receiver.BaseUrl + "/ok", events = new[] { "workflow.completed" } };

        Assert.Equal(HttpStatusCode.Forbidden, (await Client.ApiPostAsync("/api/v1/webhooks", body, headers: Users.ApiKey(reader))).Status);
        Assert.Equal(HttpStatusCode.Created, (await Client.ApiPostAsync("/api/v1/webhooks", body, headers: Users.ApiKey(writer))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Client.ApiGetAsync("/api/v1/webhooks", headers: Users.ApiKey(reader))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client.ApiGetAsync("/api/v1/webhooks", headers: Users.ApiKey(other))).Status);
    }

    private static string Base64Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }
}
