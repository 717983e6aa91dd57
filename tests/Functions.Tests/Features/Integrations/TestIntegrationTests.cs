using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Integrations;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Integrations;

public sealed class TestIntegrationTests : IntegrationTestBase
{
    [Fact]
    public async Task Test_WithAGoodCredential_IsOk_WithStatusAndLatency()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken);

        var tested = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.OK, tested.Status);
        Assert.True(tested.Data["ok"]!.GetValue<bool>());
        Assert.Equal(200, tested.Data["status"]!.GetValue<int>());
        Assert.True(tested.Data["latencyMs"]!.GetValue<long>() >= 0);
        Assert.Equal("Bearer " + CredentialUpstream.GoodToken, Upstream.Received.Single(c => c.Path == "/me").Authorization);
        var read = await Client.ApiGetAsync($"/api/v1/integrations/{id}", Owner.AccessToken);
        Assert.True(read.Data["lastTestOk"]!.GetValue<bool>());
        Assert.DoesNotContain(CredentialUpstream.GoodToken, Json(tested) + Json(read) + Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_Refused401_MarksItExpired_AndRaisesCredentialExpiredOnce_UntilTheSecretIsReplaced()
    {
        const string revoked = "revoked-token-51aa0c3e";
        var id = await CreateBearerAsync(revoked);

        var first = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);
        var second = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);
        var expired = await Client.ApiGetAsync($"/api/v1/integrations/{id}", Owner.AccessToken);
        var onlyExpired = await Client.ApiGetAsync("/api/v1/integrations?status=expired", Owner.AccessToken);
        var afterTwo = await ExpiredEventsAsync(id);

        Assert.False(first.Data["ok"]!.GetValue<bool>());
        Assert.Equal(401, first.Data["status"]!.GetValue<int>());
        Assert.Contains("401", first.Data["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("expired", first.Data["credentialStatus"]!.GetValue<string>());
        Assert.Equal(401, second.Data["status"]!.GetValue<int>());
        Assert.Equal("expired", expired.Data["status"]!.GetValue<string>());
        Assert.Single(onlyExpired.Data.AsArray());
        var alarm = Assert.Single(afterTwo);
        Assert.Equal("credential.expired", alarm.Type);
        Assert.Equal(id, alarm.Payload["credentialId"]!.GetValue<string>());
        Assert.Equal(401, alarm.Payload["status"]!.GetValue<int>());

        // A new secret is a new credential as far as expiry goes: it works, and its own refusal raises the event again.
        var rotated = await Client.ApiPutAsync($"/api/v1/integrations/{id}", new { credentials = new { token = CredentialUpstream.GoodToken } }, Owner.AccessToken);
        var working = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);
        await Client.ApiPutAsync($"/api/v1/integrations/{id}", new { credentials = new { token = revoked } }, Owner.AccessToken);
        await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);
        await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);

        Assert.Equal("active", rotated.Data["status"]!.GetValue<string>());
        Assert.True(working.Data["ok"]!.GetValue<bool>(), Json(working));
        Assert.Equal(2, (await ExpiredEventsAsync(id)).Count);
        Assert.DoesNotContain(revoked, string.Join("\n", (await ExpiredEventsAsync(id)).Select(e => e.Payload.ToJsonString())) + Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_PastItsExpiry_MarksItExpiredAndRaisesCredentialExpiredOnce_WithoutAnyUse()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken, expiresAt: Factory.Clock.GetUtcNow().AddMinutes(5));

        await SweepAsync();
        var before = await ExpiredEventsAsync(id);
        Factory.Clock.Advance(TimeSpan.FromMinutes(6));
        await SweepAsync();
        await SweepAsync();
        var stored = await Factory.Services.GetRequiredService<IntegrationStore>().GetAsync(Owner.PersonalWorkspaceId, id, CancellationToken.None);

        Assert.Empty(before);
        Assert.Equal("credential.expired", Assert.Single(await ExpiredEventsAsync(id)).Type);
        Assert.Equal("expired", stored!.Status);
        Assert.Contains("expiry", stored.ExpiredReason, StringComparison.Ordinal);
        Assert.DoesNotContain(Upstream.Received, c => c.Path == "/me");
    }

    [Fact]
    public async Task Sweep_AfterTheSecretWasReplaced_LeavesTheNewSecretActive()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken, expiresAt: Factory.Clock.GetUtcNow().AddMinutes(5));
        var rotated = await Client.ApiPutAsync($"/api/v1/integrations/{id}",
            new { credentials = new { token = CredentialUpstream.GoodToken }, expiresAt = Factory.Clock.GetUtcNow().AddDays(30) }, Owner.AccessToken);

        Factory.Clock.Advance(TimeSpan.FromMinutes(6));
        await SweepAsync();
        var read = await Client.ApiGetAsync($"/api/v1/integrations/{id}", Owner.AccessToken);

        Assert.Equal(HttpStatusCode.OK, rotated.Status);
        Assert.Empty(await ExpiredEventsAsync(id));
        Assert.Equal("active", read.Data["status"]!.GetValue<string>());
    }

    private Task SweepAsync() => TriggerInvoker.InvokeAsync(Factory.Services, "SweepExpiredCredentials", null);

    [Fact]
    public async Task Test_PastItsExpiry_SendsNothing_AndRaisesCredentialExpiredOnce()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken, expiresAt: DateTimeOffset.UtcNow.AddMinutes(5));
        Factory.Clock.Advance(TimeSpan.FromMinutes(6));

        var listed = await Client.ApiGetAsync("/api/v1/integrations", Owner.AccessToken);
        var first = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);
        var second = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);

        Assert.Equal("expired", listed.Data[0]!["status"]!.GetValue<string>());
        Assert.False(first.Data["ok"]!.GetValue<bool>());
        Assert.Contains("expired", first.Data["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(second.Data["ok"]!.GetValue<bool>());
        Assert.DoesNotContain(Upstream.Received, c => c.Path == "/me");
        Assert.Single(await ExpiredEventsAsync(id));
    }

    [Fact]
    public async Task Test_WithoutATestUrl_Is422()
    {
        var id = await CreateBearerAsync(CredentialUpstream.GoodToken, testPath: null);

        var tested = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, tested.Status);
        Assert.Equal("credentials.testUrl", Field(tested));
    }

    [Fact]
    public async Task Test_OfAQueryKeyCredential_SendsTheKeyInTheQuery_AndNeverShowsIt()
    {
        var created = await Client.ApiPostAsync("/api/v1/integrations", new
        {
            provider = "http_query",
            name = "query key",
            credentials = new { baseUrl = Upstream.BaseUrl, paramName = "api_key", apiKey = CredentialUpstream.GoodToken, testUrl = Upstream.BaseUrl + "/me?page=1" },
        }, Owner.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();

        var tested = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);

        Assert.True(tested.Data["ok"]!.GetValue<bool>(), Json(tested));
        Assert.Equal($"?page=1&api_key={CredentialUpstream.GoodToken}", Upstream.Received.Single(c => c.Path == "/me").Query);
        Assert.DoesNotContain(CredentialUpstream.GoodToken, Json(created) + Json(tested) + Logs.All, StringComparison.Ordinal);
    }
}
