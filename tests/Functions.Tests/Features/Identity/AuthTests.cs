using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Identity;

public sealed class AuthTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Register_ReturnsCreatedUserWithPersonalWorkspace()
    {
        var email = $"new-{Guid.NewGuid():N}@example.com";

        var response = await _client.ApiPostAsync("/api/v1/auth/register", new { email, password = "Sup3rsecret", name = "Ada", lastname = "Lovelace" });

        Assert.Equal(HttpStatusCode.Created, response.Status);
        Assert.Equal(email, response.Data["email"]!.GetValue<string>());
        Assert.Equal("Lovelace", response.Data["lastname"]!.GetValue<string>());
        Assert.StartsWith("ws_", response.Data["personalWorkspaceId"]!.GetValue<string>());
        Assert.Null(response.Data["passwordHash"]);
    }

    [Fact]
    public async Task Register_WithUsernameOnly_ThenLoginByUsername()
    {
        var username = "u" + Guid.NewGuid().ToString("N")[..10];

        var registered = await _client.ApiPostAsync("/api/v1/auth/register", new { username, password = "Sup3rsecret" });
        var login = await _client.ApiPostAsync("/api/v1/auth/login", new { username, password = "Sup3rsecret" });

        Assert.Equal(HttpStatusCode.Created, registered.Status);
        Assert.Equal(HttpStatusCode.OK, login.Status);
        Assert.Equal("Bearer", login.Data["tokenType"]!.GetValue<string>());
        Assert.True(login.Data["expiresIn"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task Register_SameEmailTwiceInAnyCase_Is409()
    {
        var email = $"dup-{Guid.NewGuid():N}@example.com";
        await _client.ApiPostAsync("/api/v1/auth/register", new { email, password = "Sup3rsecret" });

        var again = await _client.ApiPostAsync("/api/v1/auth/register", new { email = email.ToUpperInvariant(), password = "Sup3rsecret" });

        Assert.Equal(HttpStatusCode.Conflict, again.Status);
    }

    [Theory]
    [InlineData("short1")]
    [InlineData("lettersonly")]
    [InlineData("1234567890")]
    public async Task Register_WeakPassword_Is422OnPassword(string password)
    {
        var response = await _client.ApiPostAsync("/api/v1/auth/register", new { email = $"w-{Guid.NewGuid():N}@example.com", password });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("password", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Login_WrongPassword_Is401AndUnknownUserLooksTheSame()
    {
        var user = await _client.RegisterAsync();

        var wrong = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = "Wrong1password" });
        var unknown = await _client.ApiPostAsync("/api/v1/auth/login", new { email = "nobody-" + user.Email, password = "Wrong1password" });

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Status);
        Assert.Equal(wrong.Body!["error"]!["message"]!.GetValue<string>(), unknown.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Login_AfterRepeatedFailures_LocksEvenTheRightPassword()
    {
        var user = await _client.RegisterAsync();
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = "Wrong1password" })).Status);
        }

        var fifth = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = "Wrong1password" });
        var right = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });

        Assert.Equal(HttpStatusCode.Forbidden, fifth.Status);
        Assert.Equal(HttpStatusCode.Forbidden, right.Status);
        Assert.True(int.Parse(right.Header("Retry-After")!) > 0);
    }

    [Fact]
    public async Task Lockout_Expires_ThenTheRightPasswordWorks()
    {
        var user = await _client.RegisterAsync();
        for (var i = 0; i < 5; i++)
        {
            await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = "Wrong1password" });
        }

        factory.Clock.Advance(TimeSpan.FromMinutes(16));
        var login = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });

        Assert.Equal(HttpStatusCode.OK, login.Status);
    }

    [Fact]
    public async Task Me_WithAccessToken_ReturnsUserAndAllScopes()
    {
        var user = await _client.RegisterAsync();

        var me = await _client.ApiGetAsync("/api/v1/auth/me", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal(user.Id, me.Data["user"]!["id"]!.GetValue<string>());
        Assert.Equal("jwt", me.Data["authMethod"]!.GetValue<string>());
        Assert.Contains("api_keys:write", me.Data["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task AccessToken_AfterItsLifetime_Is401()
    {
        var user = await _client.RegisterAsync();

        factory.Clock.Advance(TimeSpan.FromMinutes(20));
        var me = await _client.ApiGetAsync("/api/v1/auth/me", user.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, me.Status);
    }

    [Fact]
    public async Task Refresh_RotatesTheRefreshToken()
    {
        var user = await _client.RegisterAsync();

        var refreshed = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        var next = refreshed.Data["refreshToken"]!.GetValue<string>();
        Assert.NotEqual(user.RefreshToken, next);
        var me = await _client.ApiGetAsync("/api/v1/auth/me", refreshed.Data["accessToken"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = next })).Status);
    }

    [Fact]
    public async Task SeedForms_RefreshTokenSnakeCase_FullName_AndABareAuthorizationToken_AreAccepted()
    {
        var email = $"forge-{Guid.NewGuid():N}@example.com";
        var registered = await _client.ApiPostAsync("/api/v1/auth/register", new { email, password = "Sup3rsecret", full_name = "Grace Hopper" });
        var login = await _client.ApiPostAsync("/api/v1/auth/login", new { email, password = "Sup3rsecret" });

        var refreshed = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refresh_token = login.Data["refreshToken"]!.GetValue<string>() });
        var missing = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refresh_token = "" });
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read"]);
        var bare = new Dictionary<string, string> { ["Authorization"] = refreshed.Data["accessToken"]!.GetValue<string>() };
        var me = await _client.ApiGetAsync("/api/v1/auth/me", headers: bare);
        var byKey = await _client.ApiGetAsync("/api/v1/user/profile", headers: new Dictionary<string, string> { ["Authorization"] = key });
        var wrongScheme = await _client.ApiGetAsync("/api/v1/auth/me", headers: new Dictionary<string, string> { ["Authorization"] = "Basic " + key });

        Assert.Equal(HttpStatusCode.Created, registered.Status);
        Assert.Equal("Grace Hopper", registered.Data["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.Status);
        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal(email, me.Data["user"]!["email"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, byKey.Status);
        Assert.Equal(user.Email, byKey.Data["email"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, wrongScheme.Status);
    }

    [Fact]
    public async Task Refresh_ReusingARotatedToken_RevokesTheWholeFamily()
    {
        var user = await _client.RegisterAsync();
        var rotated = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });
        var current = rotated.Data["refreshToken"]!.GetValue<string>();

        var replay = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });
        var legit = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = current });

        Assert.Equal(HttpStatusCode.Unauthorized, replay.Status);
        Assert.Contains("already used", replay.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, legit.Status);
    }

    [Fact]
    public async Task Refresh_OtherSessionsSurviveAReuseInOneFamily()
    {
        var user = await _client.RegisterAsync();
        var second = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });
        await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });
        await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });

        var other = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = second.Data["refreshToken"]!.GetValue<string>() });

        Assert.Equal(HttpStatusCode.OK, other.Status);
    }

    [Fact]
    public async Task Logout_EndsTheRefreshToken()
    {
        var user = await _client.RegisterAsync();

        var logout = await _client.ApiPostAsync("/api/v1/auth/logout", new { refreshToken = user.RefreshToken });
        var refresh = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });

        Assert.Equal(HttpStatusCode.NoContent, logout.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.Status);
    }

    [Fact]
    public async Task Refresh_UnknownToken_Is401_AndMissingToken_Is422()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = "rt_nonsense" })).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/auth/refresh", new { })).Status);
    }

    [Fact]
    public async Task ForgotPassword_UnknownEmail_Is202Too()
    {
        var response = await _client.ApiPostAsync("/api/v1/auth/forgot-password", new { email = "ghost@example.com" });

        Assert.Equal(HttpStatusCode.Accepted, response.Status);
    }
}
