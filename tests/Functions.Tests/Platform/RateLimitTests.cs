using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

public sealed class RateLimitTests(RateLimitTests.Factory factory) : IClassFixture<RateLimitTests.Factory>
{
    public sealed class Factory() : PlatformFactory(new Dictionary<string, string?>
    {
        ["RateLimits:GeneralPerMinute"] = "3",
        ["RateLimits:AuthPerMinutePerIp"] = "1000",
    });

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task OverTheLimit_Is429WithRetryAfterAndBudgetHeaders()
    {
        var user = await _client.RegisterAsync();
        var answers = new List<ApiResponse>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await _client.ApiGetAsync("/api/v1/auth/me", user.AccessToken));
        }

        Assert.All(answers.Take(3), a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(["2", "1", "0"], answers.Take(3).Select(a => a.Header("X-RateLimit-Remaining")));
        var limited = answers[3];
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.Equal("RATE_LIMIT_EXCEEDED", limited.ErrorCode);
        Assert.Equal("3", limited.Header("X-RateLimit-Limit"));
        Assert.Equal("0", limited.Header("X-RateLimit-Remaining"));
        Assert.InRange(int.Parse(limited.Header("Retry-After")!), 1, 60);
        var reset = long.Parse(limited.Header("X-RateLimit-Reset")!);
        Assert.InRange(reset - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0, 61);
    }

    [Fact]
    public async Task Limits_ArePerPrincipal_AndAKeysOwnLimitOverrides()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read"], rateLimitPerMinute: 5);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await _client.ApiGetAsync("/api/v1/auth/me", key)).Status);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5).Append(HttpStatusCode.TooManyRequests), statuses);
    }
}

public sealed class AuthRateLimitTests(AuthRateLimitTests.Factory factory) : IClassFixture<AuthRateLimitTests.Factory>
{
    public sealed class Factory() : PlatformFactory(new Dictionary<string, string?> { ["RateLimits:AuthPerMinutePerIp"] = "3" });

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Login_IsLimitedPerClientAddress()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await _client.ApiPostAsync("/api/v1/auth/login", new { email = $"x{i}@example.com", password = "Wrong1password" })).Status);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }
}
