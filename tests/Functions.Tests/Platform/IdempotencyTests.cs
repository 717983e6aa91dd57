using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

public sealed class IdempotencyTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static Dictionary<string, string> Key(string key) => new() { ["Idempotency-Key"] = key };

    [Fact]
    public async Task SameKeySameBody_ReplaysTheStoredResponse()
    {
        var user = await _client.RegisterAsync();
        var key = Guid.NewGuid().ToString();

        var first = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "Team" }, user.AccessToken, Key(key));
        var second = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "Team" }, user.AccessToken, Key(key));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Equal(first.Data["id"]!.GetValue<string>(), second.Data["id"]!.GetValue<string>());
        Assert.Equal("true", second.Header("Idempotent-Replayed"));
        var list = await _client.ApiGetAsync("/api/v1/workspaces", user.AccessToken);
        Assert.Single(list.Data.AsArray(), w => w!["name"]!.GetValue<string>() == "Team");
    }

    [Fact]
    public async Task SameKeyDifferentBody_Is409()
    {
        var user = await _client.RegisterAsync();
        var key = Guid.NewGuid().ToString();

        await _client.ApiPostAsync("/api/v1/workspaces", new { name = "One" }, user.AccessToken, Key(key));
        var reused = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "Two" }, user.AccessToken, Key(key));

        Assert.Equal(HttpStatusCode.Conflict, reused.Status);
        Assert.Equal("CONFLICT", reused.ErrorCode);
    }

    [Fact]
    public async Task SameKeyOtherCaller_IsIndependent()
    {
        var alice = await _client.RegisterAsync();
        var bob = await _client.RegisterAsync();
        var key = Guid.NewGuid().ToString();

        var first = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "Shared name" }, alice.AccessToken, Key(key));
        var second = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "Shared name" }, bob.AccessToken, Key(key));

        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Null(second.Header("Idempotent-Replayed"));
        Assert.NotEqual(first.Data["id"]!.GetValue<string>(), second.Data["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task ClientErrorAnswer_IsKeptAndReplayed()
    {
        var user = await _client.RegisterAsync();
        var key = Guid.NewGuid().ToString();

        var invalid = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "" }, user.AccessToken, Key(key));
        var replayed = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "" }, user.AccessToken, Key(key));

        // A 4xx is an answer too: the retry gets the same one back, not a second evaluation.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, replayed.Status);
        Assert.Equal("true", replayed.Header("Idempotent-Replayed"));
    }

    [Fact]
    public async Task OverlongKey_Is400()
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPostAsync("/api/v1/workspaces", new { name = "x" }, user.AccessToken, Key(new string('k', 300)));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
    }
}
