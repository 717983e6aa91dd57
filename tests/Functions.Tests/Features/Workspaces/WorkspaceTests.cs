using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Orchestrations.Ports;
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

    [Fact]
    public async Task List_SeveralPagesOfASmallLimit_AreCompleteAndInOrder()
    {
        var user = await _client.RegisterAsync();
        string[] names = ["Delta", "alpha", "Echo", "charlie", "Bravo"];
        var created = new List<string> { user.PersonalWorkspaceId };
        foreach (var name in names)
        {
            created.Add(await CreateWorkspaceAsync(user, name));
        }

        var oldestFirst = await _client.WalkAsync("/api/v1/workspaces", 2, user.AccessToken);
        var byNameDesc = await _client.WalkAsync("/api/v1/workspaces?sortBy=name&sortOrder=desc&search=a", 2, user.AccessToken);

        Assert.Equal(created, oldestFirst.Select(w => w["id"]!.GetValue<string>()));
        Assert.All(oldestFirst, w => Assert.Equal("owner", w["role"]!.GetValue<string>()));
        // Case-insensitive by name, searched for an "a" (not in "Echo"); the personal workspace is "Test's workspace".
        Assert.Equal(["Test's workspace", "Delta", "charlie", "Bravo", "alpha"], byNameDesc.Select(w => w["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task List_AfterLeaving_NoLongerShowsTheWorkspace_AndABoundKeyPagesOnlyItsOwn()
    {
        var owner = await _client.RegisterAsync();
        var member = await _client.RegisterAsync();
        var kept = await CreateWorkspaceAsync(owner, "kept");
        var left = await CreateWorkspaceAsync(owner, "left");
        foreach (var workspace in new[] { kept, left })
        {
            await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = member.Email, role = "viewer" }, owner.AccessToken);
        }

        await _client.ApiDeleteAsync($"/api/v1/workspaces/{left}/members/{member.Id}", member.AccessToken);
        var key = await _client.CreateKeyAsync(member, ["workspaces:read"], kept);

        var theirs = await _client.WalkAsync("/api/v1/workspaces", 1, member.AccessToken);
        var bound = await _client.WalkAsync("/api/v1/workspaces", 1, key);

        Assert.Equal([member.PersonalWorkspaceId, kept], theirs.Select(w => w["id"]!.GetValue<string>()));
        Assert.Equal("viewer", theirs[1]["role"]!.GetValue<string>());
        Assert.Equal([kept], bound.Select(w => w["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Members_SeveralPagesOfASmallLimit_AreCompleteAndInOrder_FilteredByRoleAndSearched()
    {
        var owner = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        var joined = new List<TestUser> { owner };
        string[] roles = ["admin", "member", "viewer", "member", "admin"];
        foreach (var role in roles)
        {
            var user = await _client.RegisterAsync();
            Assert.Equal(HttpStatusCode.Created, (await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { userId = user.Id, role }, owner.AccessToken)).Status);
            joined.Add(user);
        }

        var all = await _client.WalkAsync($"/api/v1/workspaces/{workspace}/members", 2, owner.AccessToken);
        var admins = await _client.WalkAsync($"/api/v1/workspaces/{workspace}/members?status=Admin", 1, owner.AccessToken);
        var searched = await _client.WalkAsync($"/api/v1/workspaces/{workspace}/members?search={joined[3].Email.ToUpperInvariant()}", 2, owner.AccessToken);

        Assert.Equal(joined.Select(u => u.Id), all.Select(m => m["userId"]!.GetValue<string>()));
        Assert.Equal(joined.Select(u => u.Email), all.Select(m => m["email"]!.GetValue<string>()));
        Assert.Equal([joined[1].Id, joined[5].Id], admins.Select(m => m["userId"]!.GetValue<string>()));
        Assert.Equal([joined[3].Id], searched.Select(m => m["userId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task RemoveMember_OneOfTwoOwners_Succeeds_AndTheLastOwnerStays()
    {
        var owner = await _client.RegisterAsync();
        var second = await _client.RegisterAsync();
        var workspace = await CreateWorkspaceAsync(owner);
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { userId = second.Id, role = "owner" }, owner.AccessToken);

        var first = await _client.ApiDeleteAsync($"/api/v1/workspaces/{workspace}/members/{owner.Id}", owner.AccessToken);
        var last = await _client.ApiDeleteAsync($"/api/v1/workspaces/{workspace}/members/{second.Id}", second.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, first.Status);
        Assert.Equal(HttpStatusCode.Conflict, last.Status);
    }

    [Fact]
    public async Task List_RowsWrittenBeforeTheIndex_AreListedOnceMoved()
    {
        var user = await _client.RegisterAsync();
        var store = factory.Services.GetRequiredService<IEntityStore>();
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var old = new { Id = "ws_" + Guid.NewGuid().ToString("N"), Name = "From the first release", Description = (string?)null, OwnerId = user.Id, IsPersonal = false, CreatedAt = DateTimeOffset.UtcNow };
        var member = JsonSerializer.Serialize(new { UserId = user.Id, Role = "admin", JoinedAt = DateTimeOffset.UtcNow }, json);
        await store.UpsertAsync("workspaces", old.Id, "w", JsonSerializer.Serialize(old, json), CancellationToken.None);
        await store.UpsertAsync("members", old.Id, user.Id, member, CancellationToken.None);
        await store.UpsertAsync("usermemberships", user.Id, old.Id, member, CancellationToken.None);
        await store.UpsertAsync("usermemberships", user.Id, "ws_gone", member, CancellationToken.None);

        var listed = await _client.WalkAsync("/api/v1/workspaces?sortBy=name", 1, user.AccessToken);
        var members = await _client.WalkAsync($"/api/v1/workspaces/{old.Id}/members", 1, user.AccessToken);

        Assert.Equal(["From the first release", "Test's workspace"], listed.Select(w => w["name"]!.GetValue<string>()));
        Assert.Equal("admin", listed[0]["role"]!.GetValue<string>());
        Assert.Equal([user.Id], members.Select(m => m["userId"]!.GetValue<string>()));
        Assert.Empty((await store.QueryAsync("usermemberships", new EntityQuery { PartitionKey = user.Id }, CancellationToken.None)).Items);
    }

    [Fact]
    public async Task List_CursorOfAnotherOrder_Is422()
    {
        var user = await _client.RegisterAsync();
        await CreateWorkspaceAsync(user);

        var byName = await _client.CursorAsync("/api/v1/workspaces?sortBy=name", 1, user.AccessToken);
        var workspaces = await _client.PageAfterAsync("/api/v1/workspaces", byName, user.AccessToken);
        var members = await _client.PageAfterAsync($"/api/v1/workspaces/{user.PersonalWorkspaceId}/members", byName, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, workspaces.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, members.Status);
    }
}
