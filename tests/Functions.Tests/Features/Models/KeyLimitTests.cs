using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Models;

public sealed class KeyLimitTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private static object Chat(string model = "gpt-test") => new { model, messages = new[] { new { role = "user", content = "hi" } } };

    [Fact]
    public async Task AllowList_RefusesOtherModels_BeforeTheUpstreamCall_AndFiltersTheModelList()
    {
        var (_, key) = await fixture.UserWithKeyAsync(new { allowedModels = new[] { "solo" } });
        var before = fixture.Primary.Received.Count + fixture.Secondary.Received.Count;

        var refused = await _client.ApiPostAsync("/v1/chat/completions", Chat("gpt-test"), key);
        var models = await _client.ApiGetAsync("/v1/models", key);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("permission_error", refused.Body!["error"]!["type"]!.GetValue<string>());
        Assert.Equal(before, fixture.Primary.Received.Count + fixture.Secondary.Received.Count);
        Assert.Equal(["solo"], models.Body!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiPostAsync("/v1/chat/completions", Chat("solo"), key)).Status);
    }

    [Fact]
    public async Task RequestsPerMinute_OverTheLimit_Is429QuotaExceeded_WithRetryAfter()
    {
        var (_, key) = await fixture.UserWithKeyAsync(new { modelRequestsPerMinute = 2 });

        await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        var third = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);

        Assert.Equal(HttpStatusCode.TooManyRequests, third.Status);
        Assert.Equal("QUOTA_EXCEEDED", third.Body!["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(third.Header("Retry-After"));
    }

    [Fact]
    public async Task TokensPerMinute_UsedUp_RefusesTheNextCall()
    {
        var (_, key) = await fixture.UserWithKeyAsync(new { modelTokensPerMinute = 10 });

        var first = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        var second = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.Status);
        Assert.Equal("QUOTA_EXCEEDED", second.Body!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task MonthlyBudget_Spent_Is402QuotaExceeded_BeforeTheUpstreamCall()
    {
        // One call costs 10 × 1.0/1K + 5 × 2.0/1K = 0.02 USD.
        var (_, key) = await fixture.UserWithKeyAsync(new { monthlyBudgetUsd = 0.03m });

        var first = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        var second = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        var before = fixture.Primary.Received.Count;
        var third = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(HttpStatusCode.PaymentRequired, third.Status);
        Assert.Equal("insufficient_quota", third.Body!["error"]!["type"]!.GetValue<string>());
        Assert.Equal(before, fixture.Primary.Received.Count);
    }

    [Fact]
    public async Task InvalidLimits_Are422PerField()
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPostAsync("/api/v1/user/api-keys",
            new { name = "x", scopes = new[] { "models:use" }, modelRequestsPerMinute = 0, modelTokensPerMinute = -1, monthlyBudgetUsd = -5, allowedModels = new[] { "" } },
            user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        var fields = response.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()).ToList();
        Assert.Equal(["allowedModels", "modelRequestsPerMinute", "modelTokensPerMinute", "monthlyBudgetUsd"], fields);
    }

    [Fact]
    public async Task Usage_RecordsEveryCall_StreamedToo_WithTokensCostLatencyAndStatus()
    {
        var (user, key) = await fixture.UserWithKeyAsync();

        await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        await _client.ApiPostAsync("/v1/chat/completions", new { model = "gpt-test", messages = new[] { new { role = "user", content = "s" } }, stream = true }, key);
        await _client.ApiPostAsync("/v1/embeddings", new { model = "embed-test", input = "e" }, key);
        var rows = await _client.WaitForUsageAsync(user.AccessToken, 3);

        var chat = rows.Single(r => r["operation"]!.GetValue<string>() == "chat" && !r["stream"]!.GetValue<bool>());
        Assert.Equal(10, chat["promptTokens"]!.GetValue<int>());
        Assert.Equal(5, chat["completionTokens"]!.GetValue<int>());
        Assert.Equal(0.02m, chat["costUsd"]!.GetValue<decimal>());
        Assert.Equal("primary", chat["provider"]!.GetValue<string>());
        Assert.Equal("ok", chat["status"]!.GetValue<string>());
        Assert.Equal(user.Id, chat["userId"]!.GetValue<string>());
        Assert.NotNull(chat["apiKeyId"]);
        var streamed = rows.Single(r => r["stream"]!.GetValue<bool>());
        Assert.Equal(15, streamed["totalTokens"]!.GetValue<int>());
        Assert.NotNull(streamed["timeToFirstTokenMs"]);
        var embedding = rows.Single(r => r["operation"]!.GetValue<string>() == "embedding");
        Assert.Equal(0.005m, embedding["costUsd"]!.GetValue<decimal>());

        var forge = await _client.ApiGetAsync($"/v1/analytics/user/{user.Id}", key);
        Assert.Equal(3, forge.Body!["total_requests"]!.GetValue<int>());
        Assert.Equal(2, forge.Body["model_breakdown"]!["gpt-test"]!["requests"]!.GetValue<int>());
        Assert.Equal(0.04m, forge.Body["model_breakdown"]!["gpt-test"]!["cost_estimate"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Usage_IsPerWorkspace_AnotherUserSeesNoneOfIt()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        var (other, otherKey) = await fixture.UserWithKeyAsync();
        await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        await _client.WaitForUsageAsync(user.AccessToken, 1);

        var theirs = await _client.ApiGetAsync("/api/v1/analytics/usage", otherKey);
        var peek = await _client.ApiGetAsync($"/v1/analytics/user/{user.Id}", otherKey);

        Assert.Empty(theirs.Data.AsArray());
        Assert.Equal(0, peek.Body!["total_requests"]?.GetValue<int>() ?? 0);
        Assert.NotEqual(user.Id, other.Id);
    }
}
