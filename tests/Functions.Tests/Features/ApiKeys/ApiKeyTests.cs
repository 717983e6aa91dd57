using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.ApiKeys;

public sealed class ApiKeyTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Create_ReturnsTheSecretOnce_ListShowsOnlyThePrefix()
    {
        var user = await _client.RegisterAsync();

        var created = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "ci", scopes = new[] { "profile:read" } }, user.AccessToken);
        var list = await _client.ApiGetAsync("/api/v1/user/api-keys", user.AccessToken);

        var secret = created.Data["key"]!.GetValue<string>();
        Assert.StartsWith("sfk_", secret);
        var listed = Assert.Single(list.Data.AsArray());
        Assert.Null(listed!["key"]);
        Assert.Null(listed["hash"]);
        Assert.StartsWith(listed["prefix"]!.GetValue<string>(), secret);
        Assert.DoesNotContain(secret, list.Body!.ToJsonString());
        Assert.Equal(user.PersonalWorkspaceId, listed["workspaceId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Key_AuthenticatesAsBearerAndAsXApiKey()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read"]);

        var bearer = await _client.ApiGetAsync("/api/v1/auth/me", key);
        var header = await _client.ApiGetAsync("/api/v1/auth/me", headers: Users.ApiKey(key));

        Assert.Equal(HttpStatusCode.OK, bearer.Status);
        Assert.Equal(HttpStatusCode.OK, header.Status);
        Assert.Equal("api_key", header.Data["authMethod"]!.GetValue<string>());
        Assert.Equal(["profile:read"], header.Data["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task Key_WithoutTheRouteScope_Is403()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read"]);

        var response = await _client.ApiGetAsync("/api/v1/user/api-keys", headers: Users.ApiKey(key));

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("FORBIDDEN", response.ErrorCode);
        Assert.Contains("api_keys:read", response.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Key_CannotMintAKeyWithMoreScopesThanItHolds()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["api_keys:write", "profile:read"]);

        var escalate = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "x", scopes = new[] { "workspaces:write" } }, key);
        var subset = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "y", scopes = new[] { "profile:read" } }, key);

        Assert.Equal(HttpStatusCode.Forbidden, escalate.Status);
        Assert.Equal(HttpStatusCode.Created, subset.Status);
    }

    [Fact]
    public async Task Create_InvalidInput_Is422PerField()
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPostAsync("/api/v1/user/api-keys",
            new { name = "", scopes = new[] { "everything" }, expiresAt = DateTimeOffset.UtcNow.AddDays(-1), rateLimitPerMinute = 0 }, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        var fields = response.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()).ToList();
        Assert.Equal(["name", "scopes", "expiresAt", "rateLimitPerMinute"], fields);
    }

    [Fact]
    public async Task Delete_RevokesTheKeyAtOnce()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read"]);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", key)).Status);
        var id = (await _client.ApiGetAsync("/api/v1/user/api-keys", user.AccessToken)).Data[0]!["id"]!.GetValue<string>();

        var deleted = await _client.ApiDeleteAsync($"/api/v1/user/api-keys/{id}", user.AccessToken);
        var after = await _client.ApiGetAsync("/api/v1/auth/me", key);

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, after.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/user/api-keys/{id}", user.AccessToken)).Status);
    }

    [Fact]
    public async Task Delete_SomeoneElsesKey_Is404AndTheKeyKeepsWorking()
    {
        var alice = await _client.RegisterAsync();
        var bob = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(alice, ["profile:read"]);
        var id = (await _client.ApiGetAsync("/api/v1/user/api-keys", alice.AccessToken)).Data[0]!["id"]!.GetValue<string>();

        var response = await _client.ApiDeleteAsync($"/api/v1/user/api-keys/{id}", bob.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", key)).Status);
    }

    [Fact]
    public async Task Key_PastItsExpiry_Is401()
    {
        var user = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/user/api-keys",
            new { name = "short", scopes = new[] { "profile:read" }, expiresAt = DateTimeOffset.UtcNow.AddHours(1) }, user.AccessToken);
        var key = created.Data["key"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", key)).Status);

        factory.Clock.Advance(TimeSpan.FromHours(2));

        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.ApiGetAsync("/api/v1/auth/me", key)).Status);
    }

    [Fact]
    public async Task Key_RecordsLastUse()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read"]);

        await _client.ApiGetAsync("/api/v1/auth/me", key);
        var listed = (await _client.ApiGetAsync("/api/v1/user/api-keys", user.AccessToken)).Data[0]!;

        Assert.NotNull(listed["lastUsedAt"]);
    }

    [Fact]
    public async Task List_SeveralPagesOfASmallLimit_AreCompleteAndInOrder()
    {
        var user = await _client.RegisterAsync();
        string[] names = ["kilo", "alpha", "juliet", "echo", "bravo", "hotel", "delta"];
        foreach (var name in names)
        {
            Assert.Equal(HttpStatusCode.Created, (await _client.ApiPostAsync("/api/v1/user/api-keys", new { name, scopes = new[] { "profile:read" } }, user.AccessToken)).Status);
        }

        var newestFirst = await _client.WalkAsync("/api/v1/user/api-keys", 3, user.AccessToken);
        var byName = await _client.WalkAsync("/api/v1/user/api-keys?sortBy=name&sortOrder=asc", 2, user.AccessToken);

        Assert.Equal(names.Reverse(), newestFirst.Select(k => k["name"]!.GetValue<string>()));
        Assert.Equal(names.Order(StringComparer.Ordinal), byName.Select(k => k["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task List_ByAKeyBoundToAWorkspace_PagesOnlyThatWorkspacesKeys()
    {
        var user = await _client.RegisterAsync();
        var team = (await _client.ApiPostAsync("/api/v1/workspaces", new { name = "Team" }, user.AccessToken)).Data["id"]!.GetValue<string>();
        var teamHeaders = new Dictionary<string, string> { ["X-Workspace-Id"] = team };
        for (var i = 0; i < 4; i++)
        {
            await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = $"personal{i}", scopes = new[] { "profile:read" } }, user.AccessToken);
            await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = $"team{i}", scopes = new[] { "api_keys:read" } }, user.AccessToken, teamHeaders);
        }

        var teamKey = await _client.CreateKeyAsync(user, ["api_keys:read"], team);
        var listed = await _client.WalkAsync("/api/v1/user/api-keys?sortBy=name&sortOrder=asc", 2, headers: Users.ApiKey(teamKey));

        Assert.Equal(["team0", "team1", "team2", "team3", "test key"], listed.Select(k => k["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task List_CursorOfAnotherOrder_Is422()
    {
        var user = await _client.RegisterAsync();
        for (var i = 0; i < 3; i++)
        {
            await _client.CreateKeyAsync(user, ["profile:read"]);
        }

        var byName = await _client.CursorAsync("/api/v1/user/api-keys?sortBy=name", 1, user.AccessToken);
        var response = await _client.PageAfterAsync("/api/v1/user/api-keys?sortBy=createdAt", byName, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("cursor", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownKey_Is401()
    {
        var response = await _client.ApiGetAsync("/api/v1/auth/me", headers: Users.ApiKey("sfk_not-a-real-key"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
    }
}
