using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Features.Integrations;

public sealed class IntegrationCrudTests : IntegrationTestBase
{
    private const string Secret = "s3cret-bearer-0a7d41c9e2";

    [Fact]
    public async Task Providers_Catalog_DescribesTypesFieldsFillsHostsAndTests()
    {
        var catalog = await Client.ApiGetAsync("/api/v1/integrations/providers", Owner.AccessToken);

        Assert.Equal(HttpStatusCode.OK, catalog.Status);
        var providers = catalog.Data.AsArray().ToDictionary(p => p!["id"]!.GetValue<string>(), p => p!);
        Assert.Equal(["api_key", "basic", "bearer", "oauth2"], providers.Values.Select(p => p["type"]!.GetValue<string>()).Distinct().Order());
        var github = providers["github"];
        Assert.Equal("bearer", github["type"]!.GetValue<string>());
        Assert.Equal("Bearer {token}", github["fills"]!["headers"]!["Authorization"]!.GetValue<string>());
        Assert.Contains("api.github.com", github["hosts"]!.AsArray().Select(h => h!.GetValue<string>()));
        Assert.Equal("https://api.github.com/user", github["test"]!["url"]!.GetValue<string>());
        Assert.True(github["fields"]![0]!["secret"]!.GetValue<bool>());
        Assert.Equal("2022-06-28", providers["notion"]["fills"]!["headers"]!["Notion-Version"]!.GetValue<string>());
        Assert.Equal("POST", providers["slack"]["test"]!["method"]!.GetValue<string>());
        Assert.Equal("oauth2", providers["google"]["type"]!.GetValue<string>());
        Assert.Equal("{apiKey}", providers["http_query"]["fills"]!["query"]!["{paramName}"]!.GetValue<string>());
        Assert.True(providers["http_header"]["boundToBaseUrl"]!.GetValue<bool>());
        Assert.Empty(providers["http_header"]["hosts"]!.AsArray());
    }

    [Fact]
    public async Task Create_ThenReadListAndExternalList_NeverReturnTheSecret_AndItIsEncryptedAtRest()
    {
        var created = await Client.ApiPostAsync("/api/v1/integrations", new
        {
            provider = "http_bearer",
            name = "My API",
            credentials = new { baseUrl = Upstream.BaseUrl, token = Secret, testUrl = Upstream.BaseUrl + "/me" },
        }, Owner.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();
        var key = await Client.CreateKeyAsync(Owner, ["integrations:read"]);

        var got = await Client.ApiGetAsync($"/api/v1/integrations/{id}", Owner.AccessToken);
        var list = await Client.ApiGetAsync("/api/v1/integrations", Owner.AccessToken);
        var external = await Client.ApiGetAsync("/v1/integrations", headers: Users.ApiKey(key));
        var tested = await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, Owner.AccessToken);
        var renamed = await Client.ApiPutAsync($"/api/v1/integrations/{id}", new { name = "Renamed" }, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("bearer", created.Data["type"]!.GetValue<string>());
        Assert.Equal(["token"], created.Data["secretFields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(Upstream.BaseUrl, created.Data["fields"]!["baseUrl"]!.GetValue<string>());
        Assert.Equal([Upstream.BaseUrl], created.Data["hosts"]!.AsArray().Select(h => h!.GetValue<string>()));
        Assert.Equal("active", got.Data["status"]!.GetValue<string>());
        Assert.Equal(id, Assert.Single(list.Data.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, external.Status);
        Assert.Equal(id, Assert.Single(external.Body!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(401, tested.Data["status"]!.GetValue<int>());
        Assert.Equal("Renamed", renamed.Data["name"]!.GetValue<string>());
        foreach (var response in new[] { created, got, list, external, tested, renamed })
        {
            Assert.DoesNotContain(Secret, Json(response), StringComparison.Ordinal);
        }

        var row = await Factory.Services.GetRequiredService<IEntityStore>().GetAsync("integrations", Owner.PersonalWorkspaceId, id, CancellationToken.None);
        Assert.DoesNotContain(Secret, row!.Json, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, Logs.All, StringComparison.Ordinal);
        Assert.Contains(Logs.Entries, l => l.Contains(" 860 ", StringComparison.Ordinal));
    }

    public static TheoryData<object, string> InvalidCredentials => new()
    {
        { new { provider = "gitlab", name = "x", credentials = new { token = "t" } }, "provider" },
        { new { provider = "github", name = "x", credentials = new { } }, "credentials.token" },
        { new { provider = "github", name = "", credentials = new { token = "ghp_x" } }, "name" },
        { new { provider = "github", name = "x", credentials = new { token = "ghp_x", password = "p" } }, "credentials.password" },
        { new { provider = "github", name = "x", credentials = new { token = 42 } }, "credentials.token" },
        { new { provider = "github", name = "x", credentials = new { token = "ghp_x\r\nX-Evil: 1" } }, "credentials.token" },
        { new { provider = "http_bearer", name = "x", credentials = new { token = "t" } }, "credentials.baseUrl" },
        { new { provider = "http_bearer", name = "x", credentials = new { baseUrl = "ftp://example.com", token = "t" } }, "credentials.baseUrl" },
        { new { provider = "http_bearer", name = "x", credentials = new { baseUrl = "https://user:pw@example.com", token = "t" } }, "credentials.baseUrl" },
        { new { provider = "http_bearer", name = "x", credentials = new { baseUrl = "https://example.com", token = "t", testUrl = "https://other.example.com/me" } }, "credentials.testUrl" },
        { new { provider = "http_header", name = "x", credentials = new { baseUrl = "https://example.com", apiKey = "k", headerName = "Bad Header" } }, "credentials.headerName" },
        { new { provider = "http_header", name = "x", credentials = new { baseUrl = "https://example.com", apiKey = "k", headerName = "Host" } }, "credentials.headerName" },
        { new { provider = "github", name = "x", credentials = new { token = "ghp_x" }, expiresAt = "2001-01-01T00:00:00Z" }, "expiresAt" },
    };

    [Theory]
    [MemberData(nameof(InvalidCredentials))]
    public async Task Create_WithInvalidInput_Is422_NamingTheField(object body, string field)
    {
        var created = await Client.ApiPostAsync("/api/v1/integrations", body, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        Assert.Contains(created.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == field);
    }

    [Theory]
    [InlineData("http://10.0.0.1/api")]
    [InlineData("http://169.254.169.254")]
    [InlineData("http://localhost:9")]
    [InlineData("http://[::1]:9")]
    public async Task Create_WithAPrivateBaseUrl_Is422_UnlessAllowListed(string baseUrl)
    {
        var created = await Client.ApiPostAsync("/api/v1/integrations",
            new { provider = "http_bearer", name = "internal", credentials = new { baseUrl, token = "t0ken" } }, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, created.Status);
        Assert.Equal("credentials.baseUrl", Field(created));
        // 127.0.0.1 is allow-listed here: the upstream's own baseUrl is accepted (every other test stores one).
    }

    [Fact]
    public async Task Update_MovingToAnotherOrigin_NeedsTheSecretAgain()
    {
        var id = await CreateBearerAsync(Secret);

        var moved = await Client.ApiPutAsync($"/api/v1/integrations/{id}", new { credentials = new { baseUrl = "https://attacker.example.com", testUrl = (string?)null } }, Owner.AccessToken);
        var wrongProvider = await Client.ApiPutAsync($"/api/v1/integrations/{id}", new { provider = "github" }, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, moved.Status);
        Assert.Equal("credentials.baseUrl", Field(moved));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongProvider.Status);
        Assert.Equal("provider", Field(wrongProvider));
    }

    [Fact]
    public async Task AnotherWorkspace_CannotSeeChangeTestOrDeleteIt()
    {
        var id = await CreateBearerAsync(Secret);
        var stranger = await Client.RegisterAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiGetAsync($"/api/v1/integrations/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiPutAsync($"/api/v1/integrations/{id}", new { name = "mine" }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiPostAsync($"/api/v1/integrations/{id}/test", null, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiDeleteAsync($"/api/v1/integrations/{id}", stranger.AccessToken)).Status);
        Assert.Empty((await Client.ApiGetAsync("/api/v1/integrations", stranger.AccessToken)).Data.AsArray());
        var foreign = new Dictionary<string, string> { ["X-Workspace-Id"] = Owner.PersonalWorkspaceId };
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiGetAsync("/api/v1/integrations", stranger.AccessToken, foreign)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Client.ApiGetAsync($"/api/v1/integrations/{id}", Owner.AccessToken)).Status);
    }

    [Fact]
    public async Task Members_List_OnlyAdminsStoreOrDelete_AndKeysNeedTheScopes()
    {
        var team = (await Client.ApiPostAsync("/api/v1/workspaces", new { name = "Team" }, Owner.AccessToken)).Data["id"]!.GetValue<string>();
        var member = await Client.RegisterAsync();
        await Client.ApiPostAsync($"/api/v1/workspaces/{team}/members", new { userId = member.Id, role = "member" }, Owner.AccessToken);
        var inTeam = new Dictionary<string, string> { ["X-Workspace-Id"] = team };
        var body = new { provider = "github", name = "gh", credentials = new { token = "ghp_team" } };
        var reader = await Client.CreateKeyAsync(Owner, ["integrations:read"]);
        var writer = await Client.CreateKeyAsync(Owner, ["integrations:read", "integrations:write"]);
        var other = await Client.CreateKeyAsync(Owner, ["webhooks:read"]);

        var byMember = await Client.ApiPostAsync("/api/v1/integrations", body, member.AccessToken, inTeam);
        var byOwner = await Client.ApiPostAsync("/api/v1/integrations", body, Owner.AccessToken, inTeam);
        var listByMember = await Client.ApiGetAsync("/api/v1/integrations", member.AccessToken, inTeam);
        var deleteByMember = await Client.ApiDeleteAsync($"/api/v1/integrations/{byOwner.Data["id"]}", member.AccessToken, inTeam);

        Assert.Equal(HttpStatusCode.Forbidden, byMember.Status);
        Assert.Equal(HttpStatusCode.Created, byOwner.Status);
        Assert.Single(listByMember.Data.AsArray());
        Assert.Equal(HttpStatusCode.Forbidden, deleteByMember.Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client.ApiPostAsync("/api/v1/integrations", body, headers: Users.ApiKey(reader))).Status);
        Assert.Equal(HttpStatusCode.Created, (await Client.ApiPostAsync("/api/v1/integrations", body, headers: Users.ApiKey(writer))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client.ApiGetAsync("/api/v1/integrations", headers: Users.ApiKey(other))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client.ApiGetAsync("/v1/integrations", headers: Users.ApiKey(other))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.ApiGetAsync("/v1/integrations")).Status);
    }

    [Fact]
    public async Task Create_BeyondTheWorkspaceLimit_Is409()
    {
        var body = new { provider = "github", name = "gh", credentials = new { token = "ghp_x" } };
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await Client.ApiPostAsync("/api/v1/integrations", body, Owner.AccessToken)).Status);
        }

        var more = await Client.ApiPostAsync("/api/v1/integrations", body, Owner.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, more.Status);
    }
}
