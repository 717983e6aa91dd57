using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Features.WorkflowTriggers;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Admin;

/// <summary>The app with its platform admin (the first user to register) signed in.</summary>
public sealed class AdminFixture : IAsyncLifetime
{
    public PlatformFactory Factory { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public TestUser Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        Admin = await Client.RegisterAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }
}

public sealed class AdminUsersTests(AdminFixture fixture) : IClassFixture<AdminFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private string AdminToken => fixture.Admin.AccessToken;

    [Fact]
    public async Task ListUsers_SearchesEmail_AndPagesWithACursor()
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var created = new List<TestUser>();
        for (var i = 0; i < 3; i++)
        {
            created.Add(await _client.RegisterAsync($"{marker}-{i}@example.com"));
        }

        var first = await _client.ApiGetAsync($"/api/v1/admin/users?search={marker}&limit=2", AdminToken);
        var cursor = first.Body!["pagination"]!["nextCursor"]!.GetValue<string>();
        var second = await _client.ApiGetAsync($"/api/v1/admin/users?search={marker}&limit=2&cursor={cursor}", AdminToken);
        var byPage = await _client.ApiGetAsync($"/api/v1/admin/users?search={marker.ToUpperInvariant()}&limit=2&page=2", AdminToken);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(2, first.Data.AsArray().Count);
        Assert.True(first.Body["pagination"]!["hasMore"]!.GetValue<bool>());
        Assert.Single(second.Data.AsArray());
        Assert.False(second.Body!["pagination"]!["hasMore"]!.GetValue<bool>());
        var ids = first.Data.AsArray().Concat(second.Data.AsArray()).Select(u => u!["id"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(created.Select(u => u.Id).Order(), ids);
        Assert.Single(byPage.Data.AsArray());
        var listed = first.Data[0]!;
        Assert.False(listed["disabled"]!.GetValue<bool>());
        Assert.Null(listed["passwordHash"]);
        Assert.Null(listed["securityStamp"]);
    }

    [Fact]
    public async Task ListWorkspaces_FindsEveryWorkspace_BySearchOnTheName()
    {
        var user = await _client.RegisterAsync();
        var name = "Acme " + Guid.NewGuid().ToString("N")[..8];
        var created = await _client.ApiPostAsync("/api/v1/workspaces", new { name }, user.AccessToken);

        var found = await _client.ApiGetAsync($"/api/v1/admin/workspaces?search={Uri.EscapeDataString(name)}", AdminToken);
        var all = await _client.ApiGetAsync("/api/v1/admin/workspaces?limit=1", AdminToken);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var workspace = Assert.Single(found.Data.AsArray())!;
        Assert.Equal(user.Id, workspace["ownerId"]!.GetValue<string>());
        Assert.False(workspace["isPersonal"]!.GetValue<bool>());
        Assert.Single(all.Data.AsArray());
        Assert.True(all.Body!["pagination"]!["hasMore"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AdminRoutes_ForOrdinaryUsers_Are403()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read", "profile:write", "workspaces:read"]);

        var responses = new[]
        {
            await _client.ApiGetAsync("/api/v1/admin/users", user.AccessToken),
            await _client.ApiGetAsync("/api/v1/admin/workspaces", user.AccessToken),
            await _client.ApiPostAsync($"/api/v1/admin/users/{fixture.Admin.Id}/disable", null, user.AccessToken),
            await _client.ApiPostAsync($"/api/v1/admin/users/{user.Id}/enable", null, user.AccessToken),
            await _client.ApiGetAsync("/api/v1/admin/users", headers: Users.ApiKey(key)),
        };

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Forbidden, r.Status));
        Assert.All(responses, r => Assert.Equal("FORBIDDEN", r.ErrorCode));
    }

    [Fact]
    public async Task Disable_Yourself_Is409_AndAnUnknownUser_Is404()
    {
        var self = await _client.ApiPostAsync($"/api/v1/admin/users/{fixture.Admin.Id}/disable", null, AdminToken);
        var unknown = await _client.ApiPostAsync("/api/v1/admin/users/usr_nobody/disable", null, AdminToken);
        var illegal = await _client.ApiPostAsync("/api/v1/admin/users/a%23b/enable", null, AdminToken);
        var badQuery = await _client.ApiGetAsync("/api/v1/admin/users?limit=0", AdminToken);
        var badCursor = await _client.ApiGetAsync("/api/v1/admin/users?cursor=%%%", AdminToken);

        Assert.Equal(HttpStatusCode.Conflict, self.Status);
        Assert.Equal("CONFLICT", self.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.NotFound, illegal.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badQuery.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badCursor.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", AdminToken)).Status);
    }

    [Fact]
    public async Task DisabledUser_IsRefused_AtLoginRefreshWithAnOldTokenAndWithAKey_AndEnableRestoresSignIn()
    {
        var user = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(user, ["profile:read"]);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", headers: Users.ApiKey(key))).Status);

        var disabled = await _client.ApiPostAsync($"/api/v1/admin/users/{user.Id}/disable", null, AdminToken);
        var login = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });
        var wrongPassword = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = "Wrong1horse" });
        var refresh = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });
        var token = await _client.ApiGetAsync("/api/v1/auth/me", user.AccessToken);
        var apiKey = await _client.ApiGetAsync("/api/v1/auth/me", headers: Users.ApiKey(key));
        var listed = await _client.ApiGetAsync($"/api/v1/admin/users?search={user.Email}", AdminToken);

        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        Assert.True(disabled.Data["disabled"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Forbidden, login.Status);
        Assert.Contains("disabled", login.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.Status);
        Assert.Equal(HttpStatusCode.Forbidden, refresh.Status);
        Assert.Equal(HttpStatusCode.Forbidden, token.Status);
        Assert.Contains("disabled", token.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, apiKey.Status);
        Assert.Equal("FORBIDDEN", apiKey.ErrorCode);
        Assert.True(Assert.Single(listed.Data.AsArray())!["disabled"]!.GetValue<bool>());

        var enabled = await _client.ApiPostAsync($"/api/v1/admin/users/{user.Id}/enable", null, AdminToken);
        var again = await _client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });
        var oldRefresh = await _client.ApiPostAsync("/api/v1/auth/refresh", new { refreshToken = user.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, enabled.Status);
        Assert.False(enabled.Data["disabled"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", again.Data["accessToken"]!.GetValue<string>())).Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", headers: Users.ApiKey(key))).Status);
        // Disabling ended the sessions it found: their refresh tokens stay dead.
        Assert.Equal(HttpStatusCode.Unauthorized, oldRefresh.Status);
    }

    [Fact]
    public async Task DisabledUser_TheirWebhookTriggerStartsNoRun_UntilEnabled()
    {
        var user = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user, WorkflowApi.Line(new { x = "1" }));
        var url = (await _client.CreateTriggerAsync(user, workflow, new { type = "webhook" }))["url"]!.GetValue<string>();

        await _client.ApiPostAsync($"/api/v1/admin/users/{user.Id}/disable", null, AdminToken);
        var refused = await _client.ApiPostAsync(url, "{}");
        await _client.ApiPostAsync($"/api/v1/admin/users/{user.Id}/enable", null, AdminToken);
        var accepted = await _client.ApiPostAsync(url, "{}");

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("FORBIDDEN", refused.ErrorCode);
        Assert.Contains("disabled", refused.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        // Only the call after enabling started a run.
        Assert.Equal(1, await _client.CountRunsAsync(user, workflow));
    }
}
