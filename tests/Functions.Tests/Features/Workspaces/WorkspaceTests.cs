using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Workspaces;

public sealed class WorkspaceTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> CreateWorkspaceAsync(TestUser owner, string name = "Team")
    {
        var created = await _client.ApiPostAsync("/api/v1/workspaces", new { name }, owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return created.Data["id"]!.GetValue<string>();
    }

    private static Dictionary<string, string> In(string workspaceId) => new() { ["X-Workspace-Id"] = workspaceId };

    [Fact]
    public async Task List_NewUser_SeesOnlyTheirPersonalWorkspaceAsOwner()
    {
        var user = await _client.RegisterAsync();

        var list = await _client.ApiGetAsync("/api/v1/workspaces", user.AccessToken);

        var only = Assert.Single(list.Data.AsArray());
        Assert.Equal(user.PersonalWorkspaceId, only!["id"]!.GetValue<string>());
        Assert.Equal("owner", only["role"]!.GetValue<string>());
        Assert.True(only["isPersonal"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Get_MembersReadItWithTheirRole_OthersGet404()
    {
        var owner = await _client.RegisterAsync();
        var viewer = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner, "Research");
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { userId = viewer.Id, role = "viewer" }, owner.AccessToken);

        var byOwner = await _client.ApiGetAsync($"/api/v1/workspaces/{workspace}", owner.AccessToken);
        var byViewer = await _client.ApiGetAsync($"/api/v1/workspaces/{workspace}", viewer.AccessToken);
        var byStranger = await _client.ApiGetAsync($"/api/v1/workspaces/{workspace}", stranger.AccessToken);
        var unknown = await _client.ApiGetAsync("/api/v1/workspaces/ws_nothere", owner.AccessToken);

        Assert.Equal(HttpStatusCode.OK, byOwner.Status);
        Assert.Equal("Research", byOwner.Data["name"]!.GetValue<string>());
        Assert.Equal("owner", byOwner.Data["role"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, byViewer.Status);
        Assert.Equal("viewer", byViewer.Data["role"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, byStranger.Status);
        Assert.Equal("NOT_FOUND", byStranger.ErrorCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
    }

    [Fact]
    public async Task AddMember_ByEmail_GivesThemAccess()
    {
        var owner = await _client.RegisterAsync();
        var member = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);

        var added = await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = member.Email, role = "member" }, owner.AccessToken);
        var theirs = await _client.ApiGetAsync("/api/v1/workspaces", member.AccessToken);
        var members = await _client.ApiGetAsync($"/api/v1/workspaces/{workspace}/members", member.AccessToken);

        Assert.Equal(HttpStatusCode.Created, added.Status);
        Assert.Contains(theirs.Data.AsArray(), w => w!["id"]!.GetValue<string>() == workspace && w["role"]!.GetValue<string>() == "member");
        Assert.Equal(2, members.Data.AsArray().Count);
        Assert.Equal(HttpStatusCode.Conflict, (await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = member.Email }, owner.AccessToken)).Status);
    }

    [Fact]
    public async Task OtherWorkspace_IsNotFound_NeverForbidden()
    {
        var owner = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);

        var members = await _client.ApiGetAsync($"/api/v1/workspaces/{workspace}/members", stranger.AccessToken);
        var add = await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = stranger.Email }, stranger.AccessToken);
        var key = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name = "k", scopes = new[] { "profile:read" } }, stranger.AccessToken, In(workspace));
        var personal = await _client.ApiGetAsync($"/api/v1/workspaces/{owner.PersonalWorkspaceId}/members", stranger.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, members.Status);
        Assert.Equal(HttpStatusCode.NotFound, add.Status);
        Assert.Equal(HttpStatusCode.NotFound, key.Status);
        Assert.Equal(HttpStatusCode.NotFound, personal.Status);
        Assert.DoesNotContain(workspace, (await _client.ApiGetAsync("/api/v1/workspaces", stranger.AccessToken)).Body!.ToJsonString());
    }

    [Fact]
    public async Task Viewer_CannotAddMembers_Is403()
    {
        var owner = await _client.RegisterAsync();
        var viewer = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = viewer.Email, role = "viewer" }, owner.AccessToken);

        var response = await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = other.Email }, viewer.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
    }

    [Fact]
    public async Task Admin_CannotGrantOwner()
    {
        var owner = await _client.RegisterAsync();
        var admin = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = admin.Email, role = "admin" }, owner.AccessToken);

        var response = await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = other.Email, role = "owner" }, admin.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
    }

    [Fact]
    public async Task RemoveMember_TakesAccessAway_AndTheLastOwnerStays()
    {
        var owner = await _client.RegisterAsync();
        var member = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = member.Email }, owner.AccessToken);

        var removed = await _client.ApiDeleteAsync($"/api/v1/workspaces/{workspace}/members/{member.Id}", owner.AccessToken);
        var lastOwner = await _client.ApiDeleteAsync($"/api/v1/workspaces/{workspace}/members/{owner.Id}", owner.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, removed.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/workspaces/{workspace}/members", member.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.Conflict, lastOwner.Status);
    }

    [Fact]
    public async Task Member_CanLeave_ButCannotRemoveOthers()
    {
        var owner = await _client.RegisterAsync();
        var first = await _client.RegisterAsync();
        var second = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = first.Email }, owner.AccessToken);
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = second.Email }, owner.AccessToken);

        var kick = await _client.ApiDeleteAsync($"/api/v1/workspaces/{workspace}/members/{second.Id}", first.AccessToken);
        var leave = await _client.ApiDeleteAsync($"/api/v1/workspaces/{workspace}/members/{first.Id}", first.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, kick.Status);
        Assert.Equal(HttpStatusCode.NoContent, leave.Status);
    }

    [Fact]
    public async Task ApiKey_IsBoundToItsWorkspace()
    {
        var owner = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        var key = await _client.CreateKeyAsync(owner, ["workspaces:read", "api_keys:read"], workspace);

        var list = await _client.ApiGetAsync("/api/v1/workspaces", key);
        var personalMembers = await _client.ApiGetAsync($"/api/v1/workspaces/{owner.PersonalWorkspaceId}/members", key);
        var ownMembers = await _client.ApiGetAsync($"/api/v1/workspaces/{workspace}/members", key);
        var headerElsewhere = await _client.ApiGetAsync("/api/v1/user/api-keys", key, In(owner.PersonalWorkspaceId));

        Assert.Equal([workspace], list.Data.AsArray().Select(w => w!["id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, personalMembers.Status);
        Assert.Equal(HttpStatusCode.OK, ownMembers.Status);
        Assert.Equal(HttpStatusCode.OK, headerElsewhere.Status);
    }

    [Fact]
    public async Task ApiKey_DiesWhenItsOwnerLeavesTheWorkspace()
    {
        var owner = await _client.RegisterAsync();
        var member = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = member.Email }, owner.AccessToken);
        var key = await _client.CreateKeyAsync(member, ["profile:read"], workspace);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync("/api/v1/auth/me", key)).Status);

        await _client.ApiDeleteAsync($"/api/v1/workspaces/{workspace}/members/{member.Id}", owner.AccessToken);

        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.ApiGetAsync("/api/v1/auth/me", key)).Status);
    }

    [Fact]
    public async Task Create_WithApiKey_Is403_AndWithoutName_Is422()
    {
        var owner = await _client.RegisterAsync();
        var key = await _client.CreateKeyAsync(owner, ["workspaces:write"]);

        Assert.Equal(HttpStatusCode.Forbidden, (await _client.ApiPostAsync("/api/v1/workspaces", new { name = "x" }, key)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/workspaces", new { name = " " }, owner.AccessToken)).Status);
    }
}
