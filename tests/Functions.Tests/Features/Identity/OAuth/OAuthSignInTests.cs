using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Identity.OAuth;

/// <summary>The app with two sign-in providers, both played by one fake on 127.0.0.1: <c>github</c> and an OpenID issuer <c>fakeid</c>.</summary>
public sealed class OAuthFixture : IAsyncLifetime
{
    public const string RedirectUri = "https://app.example/auth/done";

    public FakeOAuthProvider Provider { get; private set; } = null!;

    public PlatformFactory Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Provider = await FakeOAuthProvider.StartAsync();
        Factory = PlatformFactory.With(new Dictionary<string, string?>
        {
            // The trigger host drains the mail outbox: some tests verify an email with the mailed token.
            ["Triggers:Enabled"] = "true",
            ["OAuth:AllowHttpLoopback"] = "true",
            ["OAuth:AllowedRedirectUris"] = $"https://other.example/cb, {RedirectUri}",
            ["OAuth:Providers:0:Name"] = "github",
            ["OAuth:Providers:0:Kind"] = "github",
            ["OAuth:Providers:0:ClientId"] = FakeOAuthProvider.ClientId,
            ["OAuth:Providers:0:ClientSecret"] = FakeOAuthProvider.ClientSecret,
            ["OAuth:Providers:0:AuthorizationEndpoint"] = Provider.BaseUrl + "/login/oauth/authorize",
            ["OAuth:Providers:0:TokenEndpoint"] = Provider.BaseUrl + "/login/oauth/access_token",
            ["OAuth:Providers:0:ApiBaseUrl"] = Provider.BaseUrl,
            ["OAuth:Providers:1:Name"] = "fakeid",
            ["OAuth:Providers:1:Kind"] = "oidc",
            ["OAuth:Providers:1:ClientId"] = FakeOAuthProvider.ClientId,
            ["OAuth:Providers:1:ClientSecret"] = FakeOAuthProvider.ClientSecret,
            ["OAuth:Providers:1:Authority"] = Provider.BaseUrl,
            ["OAuth:Providers:2:Name"] = "fakems",
            ["OAuth:Providers:2:Kind"] = "microsoft",
            ["OAuth:Providers:2:ClientId"] = FakeOAuthProvider.ClientId,
            ["OAuth:Providers:2:ClientSecret"] = FakeOAuthProvider.ClientSecret,
            ["OAuth:Providers:2:Authority"] = Provider.BaseUrl + "/common",
            // Only a client id and secret: GitHub's own endpoints.
            ["OAuth:Providers:3:Name"] = "github-plain",
            ["OAuth:Providers:3:Kind"] = "github",
            ["OAuth:Providers:3:ClientId"] = "plain-client",
            ["OAuth:Providers:3:ClientSecret"] = "plain-secret",
            // An entry without a client id is off, as in the sample settings.
            ["OAuth:Providers:4:Name"] = "google",
            ["OAuth:Providers:4:Kind"] = "google",
        });
        Provider.Clock = Factory.Clock;
        Client = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        // The first user becomes platform admin: taken here, so no test's own user is one by chance.
        Admin = await Client.RegisterAsync();
    }

    public TestUser Admin { get; private set; } = null!;

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Provider.DisposeAsync();
    }
}

public sealed class OAuthSignInTests(OAuthFixture fixture) : IClassFixture<OAuthFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Login_GitHub_RedirectsToTheProviderWithStatePkceAndClientId()
    {
        using var response = await _client.GetAsync(LoginUrl("github"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.StartsWith(fixture.Provider.BaseUrl + "/login/oauth/authorize", location.ToString(), StringComparison.Ordinal);
        Assert.Equal(FakeOAuthProvider.ClientId, query["client_id"].ToString());
        Assert.Equal("code", query["response_type"].ToString());
        Assert.Equal("S256", query["code_challenge_method"].ToString());
        Assert.Equal(43, query["code_challenge"].ToString().Length);
        Assert.True(query["state"].ToString().Length >= 32);
        Assert.EndsWith("/api/v1/oauth/github/callback", query["redirect_uri"].ToString(), StringComparison.Ordinal);
        Assert.Equal("read:user user:email", query["scope"].ToString());
    }

    [Fact]
    public async Task Login_GitHubWithOnlyClientIdAndSecret_RedirectsToGitHubItself()
    {
        using var response = await _client.GetAsync(LoginUrl("github-plain"));

        var location = response.Headers.Location!;
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("https://github.com/login/oauth/authorize", location.GetLeftPart(UriPartial.Path));
        Assert.Equal("plain-client", QueryHelpers.ParseQuery(location.Query)["client_id"].ToString());
    }

    [Fact]
    public async Task Login_Oidc_RedirectsToTheDiscoveredEndpointWithANonce()
    {
        using var response = await _client.GetAsync(LoginUrl("fakeid"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = QueryHelpers.ParseQuery(response.Headers.Location!.Query);
        Assert.StartsWith(fixture.Provider.BaseUrl + "/authorize", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.False(StringValues.IsNullOrEmpty(query["nonce"]));
        Assert.Equal("openid email profile", query["scope"].ToString());
    }

    [Theory]
    [InlineData("gitlab")]
    [InlineData("google")]
    [InlineData("GitHub")]
    public async Task Login_UnknownOrDisabledProvider_Is404(string provider)
    {
        var response = await _client.ApiGetAsync(LoginUrl(provider));

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
    }

    [Theory]
    [InlineData("https://evil.example/auth/done")]
    [InlineData("https://app.example/auth/done/")]
    [InlineData("")]
    public async Task Login_RedirectUriNotAllowed_Is422AndRedirectsNowhere(string redirectUri)
    {
        var response = await _client.ApiGetAsync($"/api/v1/oauth/github/login?redirect_uri={Uri.EscapeDataString(redirectUri)}");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("redirect_uri", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Callback_UnknownState_Is400AndRedirectsNowhere()
    {
        var response = await _client.ApiGetAsync("/api/v1/oauth/github/callback?code=abc&state=made-up");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("INVALID_REQUEST", response.ErrorCode);
    }

    [Fact]
    public async Task Callback_StateUsedTwice_IsRefusedTheSecondTime()
    {
        var authorize = await StartAsync("github");
        var code = fixture.Provider.Approve(authorize, GitHubAccount());
        var callback = CallbackUrl("github", authorize, code);

        var first = await _client.GetAsync(callback);
        var second = await _client.ApiGetAsync(callback);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, second.Status);
    }

    [Fact]
    public async Task Callback_StateOfAnotherProvider_IsRefused()
    {
        var authorize = await StartAsync("github");
        var code = fixture.Provider.Approve(authorize, GitHubAccount());

        var response = await _client.ApiGetAsync(CallbackUrl("fakeid", authorize, code));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
    }

    [Fact]
    public async Task Callback_AfterTenMinutes_StateHasExpired()
    {
        var authorize = await StartAsync("github");
        var code = fixture.Provider.Approve(authorize, GitHubAccount());

        fixture.Factory.Clock.Advance(TimeSpan.FromMinutes(11));
        var response = await _client.ApiGetAsync(CallbackUrl("github", authorize, code));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
    }

    [Fact]
    public async Task Callback_ProviderDenied_SendsTheErrorToTheFrontendWithItsState()
    {
        var authorize = await StartAsync("github");
        var state = QueryHelpers.ParseQuery(authorize.Query)["state"].ToString();

        var query = await CallbackAsync($"/api/v1/oauth/github/callback?error=access_denied&state={Uri.EscapeDataString(state)}");

        Assert.Equal("access_denied", query["error"].ToString());
        Assert.Equal("front-state", query["state"].ToString());
        Assert.False(query.ContainsKey("code"));
    }

    [Fact]
    public async Task GitHub_NewAccount_CreatesAUserWhoseTokensWork()
    {
        var account = GitHubAccount();

        var session = await SignInAsync("github", account);
        var me = await _client.ApiGetAsync("/api/v1/auth/me", session.AccessToken);
        var identities = await _client.ApiGetAsync("/api/v1/user/identities", session.AccessToken);
        var refreshed = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = session.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal(account.Email, me.Data["user"]!["email"]!.GetValue<string>());
        Assert.True(me.Data["user"]!["emailVerified"]!.GetValue<bool>());
        Assert.Equal("Fake Person", me.Data["user"]!["name"]!.GetValue<string>());
        Assert.False(identities.Data["hasPassword"]!.GetValue<bool>());
        var identity = Assert.Single(identities.Data["identities"]!.AsArray())!;
        Assert.Equal("github", identity["provider"]!.GetValue<string>());
        Assert.Equal(account.Subject, identity["subject"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
    }

    [Fact]
    public async Task DisabledUser_SignInIsSentBackWithAccountDisabled_AndACodeIssuedBeforeIsVoid()
    {
        var account = GitHubAccount();
        var session = await SignInAsync("github", account);
        var authorize = await StartAsync("github");
        var pending = await CallbackAsync(CallbackUrl("github", authorize, fixture.Provider.Approve(authorize, account)));

        var disabled = await _client.ApiPostAsync($"/api/v1/admin/users/{session.UserId}/disable", null, fixture.Admin.AccessToken);
        var exchanged = await _client.ApiPostAsync("/api/v1/oauth/token", new { code = pending["code"].ToString() });
        authorize = await StartAsync("github");
        var refused = await CallbackAsync(CallbackUrl("github", authorize, fixture.Provider.Approve(authorize, account)));

        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        // Disabling changed the security stamp: a code issued before is void like the sessions.
        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("account_disabled", refused["error"].ToString());
        Assert.False(refused.ContainsKey("code"));

        await _client.ApiPostAsync($"/api/v1/admin/users/{session.UserId}/enable", null, fixture.Admin.AccessToken);
        Assert.Equal(session.UserId, (await SignInAsync("github", account)).UserId);
    }

    [Fact]
    public async Task PasswordLogin_OfAUserCreatedBySignIn_IsRefused()
    {
        var account = GitHubAccount();
        await SignInAsync("github", account);

        var login = await _client.ApiPostAsync("/api/v1/auth/login", new { email = account.Email, password = "Sup3rsecret" });

        Assert.Equal(HttpStatusCode.Unauthorized, login.Status);
    }

    [Fact]
    public async Task GitHub_SameAccountAgain_SignsInTheSameUser()
    {
        var account = GitHubAccount();

        var first = await SignInAsync("github", account);
        var second = await SignInAsync("github", account with { Email = "changed-" + account.Email });

        Assert.Equal(first.UserId, second.UserId);
    }

    [Fact]
    public async Task GitHub_VerifiedEmailOfAPasswordUser_LinksToThatUser()
    {
        var user = await RegisterVerifiedAsync();

        var session = await SignInAsync("github", GitHubAccount() with { Email = user.Email.ToUpperInvariant() });
        var identities = await _client.ApiGetAsync("/api/v1/user/identities", user.AccessToken);

        Assert.Equal(user.Id, session.UserId);
        Assert.True(identities.Data["hasPassword"]!.GetValue<bool>());
        Assert.Single(identities.Data["identities"]!.AsArray());
    }

    [Fact]
    public async Task GitHub_VerifiedEmailOfAUserWhoNeverVerifiedIt_IsNotLinked()
    {
        var user = await _client.RegisterAsync();
        var authorize = await StartAsync("github");
        var code = fixture.Provider.Approve(authorize, GitHubAccount() with { Email = user.Email });

        var query = await CallbackAsync(CallbackUrl("github", authorize, code));
        var identities = await _client.ApiGetAsync("/api/v1/user/identities", user.AccessToken);

        Assert.Equal("account_not_verified", query["error"].ToString());
        Assert.Empty(identities.Data["identities"]!.AsArray());
    }

    [Fact]
    public async Task GitHub_UnverifiedEmailOfAnExistingUser_IsNotLinked()
    {
        var user = await _client.RegisterAsync();
        var authorize = await StartAsync("github");
        var code = fixture.Provider.Approve(authorize, GitHubAccount() with { Email = user.Email, EmailVerified = false });

        var query = await CallbackAsync(CallbackUrl("github", authorize, code));
        var identities = await _client.ApiGetAsync("/api/v1/user/identities", user.AccessToken);

        Assert.Equal("email_not_verified", query["error"].ToString());
        Assert.Empty(identities.Data["identities"]!.AsArray());
    }

    [Fact]
    public async Task GitHub_UnverifiedUnknownEmail_CreatesAUserWithAnUnverifiedEmail()
    {
        var account = GitHubAccount() with { EmailVerified = false };

        var session = await SignInAsync("github", account);
        var me = await _client.ApiGetAsync("/api/v1/auth/me", session.AccessToken);

        Assert.Equal(account.Email, me.Data["user"]!["email"]!.GetValue<string>());
        Assert.False(me.Data["user"]!["emailVerified"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Oidc_ValidIdToken_SignsInAndTokensWorkOnMe()
    {
        var account = OidcAccount();

        var session = await SignInAsync("fakeid", account);
        var me = await _client.ApiGetAsync("/api/v1/auth/me", session.AccessToken);

        Assert.Equal(HttpStatusCode.OK, me.Status);
        Assert.Equal(account.Email, me.Data["user"]!["email"]!.GetValue<string>());
        Assert.True(me.Data["user"]!["emailVerified"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData(IdTokenFault.SignedByAnotherKey)]
    [InlineData(IdTokenFault.WrongAudience)]
    [InlineData(IdTokenFault.WrongNonce)]
    [InlineData(IdTokenFault.Expired)]
    public async Task Oidc_SpoiledIdToken_IsRefused(IdTokenFault fault)
    {
        var account = OidcAccount();
        var authorize = await StartAsync("fakeid");
        var code = fixture.Provider.Approve(authorize, account, fault);

        var query = await CallbackAsync(CallbackUrl("fakeid", authorize, code));

        Assert.Equal("invalid_id_token", query["error"].ToString());
        Assert.False(query.ContainsKey("code"));
    }

    [Fact]
    public async Task Microsoft_IdTokenOfItsTenantsIssuer_SignsIn()
    {
        var authorize = await StartAsync("fakems");
        var code = fixture.Provider.Approve(authorize, OidcAccount(), tenant: "tenant-1");

        var query = await CallbackAsync(CallbackUrl("fakems", authorize, code));

        Assert.True(query.ContainsKey("code"), "The callback returned error " + query.GetValueOrDefault("error"));
    }

    [Fact]
    public async Task Microsoft_IssuerOfAnotherTenantThanItsTid_IsRefused()
    {
        var authorize = await StartAsync("fakems");
        var code = fixture.Provider.Approve(authorize, OidcAccount(), IdTokenFault.IssuerOfAnotherTenant, tenant: "tenant-1");

        var query = await CallbackAsync(CallbackUrl("fakems", authorize, code));

        Assert.Equal("invalid_id_token", query["error"].ToString());
    }

    [Fact]
    public async Task Token_OneTimeCodeUsedTwice_IsRefusedTheSecondTime()
    {
        var authorize = await StartAsync("github");
        var code = fixture.Provider.Approve(authorize, GitHubAccount());
        var oneTime = (await CallbackAsync(CallbackUrl("github", authorize, code)))["code"].ToString();

        var first = await _client.ApiPostAsync("/api/v1/oauth/token", new { code = oneTime });
        var second = await _client.ApiPostAsync("/api/v1/oauth/token", new { code = oneTime });

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.BadRequest, second.Status);
    }

    [Fact]
    public async Task Unlink_LastWayToSignIn_Is409_ButWithAnotherProviderItIsAllowed()
    {
        var account = OidcAccount();
        var session = await SignInAsync("fakeid", account);

        var last = await _client.ApiDeleteAsync("/api/v1/user/identities/fakeid", session.AccessToken);
        var linked = await SignInAsync("github", GitHubAccount() with { Email = account.Email });
        var unlinked = await _client.ApiDeleteAsync("/api/v1/user/identities/fakeid", session.AccessToken);
        var again = await _client.ApiDeleteAsync("/api/v1/user/identities/fakeid", session.AccessToken);
        var identities = await _client.ApiGetAsync("/api/v1/user/identities", session.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, last.Status);
        Assert.Equal(session.UserId, linked.UserId);
        Assert.Equal(HttpStatusCode.NoContent, unlinked.Status);
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.Equal("github", Assert.Single(identities.Data["identities"]!.AsArray())!["provider"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unlink_BothProvidersAtOnce_NeverRemovesTheLastWayToSignIn()
    {
        for (var trial = 0; trial < 5; trial++)
        {
            var account = OidcAccount();
            var session = await SignInAsync("fakeid", account);
            var github = GitHubAccount() with { Email = account.Email };
            await SignInAsync("github", github);

            var results = await Task.WhenAll(
                _client.ApiDeleteAsync("/api/v1/user/identities/fakeid", session.AccessToken),
                _client.ApiDeleteAsync("/api/v1/user/identities/github", session.AccessToken));
            var identities = await _client.ApiGetAsync("/api/v1/user/identities", session.AccessToken);

            Assert.NotEmpty(identities.Data["identities"]!.AsArray());
            Assert.Equal(identities.Data["identities"]!.AsArray().Count, 2 - results.Count(r => r.Status == HttpStatusCode.NoContent));
            Assert.All(results, r => Assert.Contains(r.Status, new[] { HttpStatusCode.NoContent, HttpStatusCode.Conflict }));
            var left = identities.Data["identities"]!.AsArray()[0]!["provider"]!.GetValue<string>();
            Assert.Equal(session.UserId, (await SignInAsync(left, left == "github" ? github : account)).UserId);
        }
    }

    [Fact]
    public async Task Unlink_UserWithAPassword_MayRemoveTheOnlyProvider()
    {
        var user = await RegisterVerifiedAsync();
        await SignInAsync("github", GitHubAccount() with { Email = user.Email });

        var unlinked = await _client.ApiDeleteAsync("/api/v1/user/identities/github", user.AccessToken);
        var login = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });

        Assert.Equal(HttpStatusCode.NoContent, unlinked.Status);
        Assert.Equal(HttpStatusCode.OK, login.Status);
    }

    private sealed record Session(string UserId, string AccessToken, string RefreshToken);

    private static FakeAccount GitHubAccount() =>
        new(Random.Shared.NextInt64(1, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture), $"gh-{Guid.NewGuid():N}@example.com", true);

    private static FakeAccount OidcAccount() => new("sub-" + Guid.NewGuid().ToString("N"), $"oidc-{Guid.NewGuid():N}@example.com", true);

    private async Task<TestUser> RegisterVerifiedAsync()
    {
        var user = await _client.RegisterAsync();
        var token = Http.TokenIn((await fixture.Factory.Mail.WaitForAsync(user.Email, "confirm")).Body);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiPostAsync("/api/v1/auth/verify-email", new { token })).Status);
        return user;
    }

    private static string LoginUrl(string provider) =>
        $"/api/v1/oauth/{provider}/login?redirect_uri={Uri.EscapeDataString(OAuthFixture.RedirectUri)}&state=front-state";

    private static string CallbackUrl(string provider, Uri authorize, string code) =>
        $"/api/v1/oauth/{provider}/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(QueryHelpers.ParseQuery(authorize.Query)["state"].ToString())}";

    private async Task<Uri> StartAsync(string provider)
    {
        using var response = await _client.GetAsync(LoginUrl(provider));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!;
    }

    /// <summary>The query the callback sent the browser back to the frontend with.</summary>
    private async Task<Dictionary<string, StringValues>> CallbackAsync(string callbackUrl)
    {
        using var response = await _client.GetAsync(callbackUrl);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(OAuthFixture.RedirectUri + "?", location.ToString(), StringComparison.Ordinal);
        return QueryHelpers.ParseQuery(location.Query);
    }

    private async Task<Session> SignInAsync(string provider, FakeAccount account)
    {
        var authorize = await StartAsync(provider);
        var code = fixture.Provider.Approve(authorize, account);
        var query = await CallbackAsync(CallbackUrl(provider, authorize, code));
        Assert.True(query.ContainsKey("code"), "The callback returned " + string.Join("&", query.Select(q => $"{q.Key}={q.Value}")));
        Assert.Equal("front-state", query["state"].ToString());
        var tokens = await _client.ApiPostAsync("/api/v1/oauth/token", new { code = query["code"].ToString() });
        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        return new Session(tokens.Data["user"]!["id"]!.GetValue<string>(), tokens.Data["accessToken"]!.GetValue<string>(), tokens.Data["refreshToken"]!.GetValue<string>());
    }
}
