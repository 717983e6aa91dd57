using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

public sealed class ListWorkflowsTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> CreateAsync(TestUser user, string name, string status = "ACTIVE") =>
        (await _client.ApiPostAsync("/api/v1/workflows", new { name, status }, user.AccessToken)).Data["id"]!.GetValue<string>();

    [Fact]
    public async Task List_ByNameInSmallPages_ReturnsEveryWorkflowOnceInOrder_BothDirections()
    {
        var user = await _client.RegisterAsync();
        var names = new[] { "Kilo", "alpha", "Echo", "charlie", "Bravo", "juliet", "delta", "Golf", "foxtrot", "hotel", "India" };
        foreach (var name in names)
        {
            await CreateAsync(user, name);
        }

        var ascending = await _client.ReadAllAsync("/api/v1/workflows?sortBy=name&sortOrder=asc&limit=3", user.AccessToken);
        var descending = await _client.ReadAllAsync("/api/v1/workflows?sortBy=name&sortOrder=desc&limit=3", user.AccessToken);

        var expected = names.OrderBy(n => n.ToLowerInvariant(), StringComparer.Ordinal).ToList();
        Assert.Equal(expected, ascending.Field("name"));
        Assert.Equal(Enumerable.Reverse(expected), descending.Field("name"));
    }

    [Fact]
    public async Task List_ByUpdatedAtInSmallPages_FollowsTheLatestEdits()
    {
        var user = await _client.RegisterAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await CreateAsync(user, $"w{i}"));
        }

        // Edited in another order than created: the list follows the edits, and each workflow is listed once.
        foreach (var id in new[] { ids[3], ids[0], ids[4] })
        {
            await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { description = "edited" }, user.AccessToken);
        }

        var newest = await _client.ReadAllAsync("/api/v1/workflows?sortBy=updatedAt&sortOrder=desc&limit=2", user.AccessToken);

        Assert.Equal([ids[4], ids[0], ids[3], ids[2], ids[1]], newest.Field("id"));
    }

    [Fact]
    public async Task List_StatusFilter_ReturnsOnlyThatStatus_AndTheDefaultListHidesArchived()
    {
        var user = await _client.RegisterAsync();
        var active = await CreateAsync(user, "a1");
        var paused = new[] { await CreateAsync(user, "p1", "PAUSED"), await CreateAsync(user, "p2", "PAUSED") };
        var archived = await CreateAsync(user, "x1");
        await _client.ApiPutAsync($"/api/v1/workflows/{archived}", new { status = "ARCHIVED" }, user.AccessToken);
        // A workflow moved out of a status leaves that status's list.
        await _client.ApiPutAsync($"/api/v1/workflows/{paused[1]}", new { status = "ACTIVE" }, user.AccessToken);

        var pausedList = await _client.ReadAllAsync("/api/v1/workflows?status=PAUSED&limit=1", user.AccessToken);
        var archivedList = await _client.ReadAllAsync("/api/v1/workflows?status=archived&limit=1", user.AccessToken);
        var defaultList = await _client.ReadAllAsync("/api/v1/workflows?limit=1", user.AccessToken);
        var invalid = await _client.ApiGetAsync("/api/v1/workflows?status=DELETED", user.AccessToken);

        Assert.Equal([paused[0]], pausedList.Field("id"));
        Assert.Equal([archived], archivedList.Field("id"));
        Assert.Equal([paused[1], paused[0], active], defaultList.Field("id"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
    }

    [Fact]
    public async Task List_CursorOfAnotherList_Is422()
    {
        var user = await _client.RegisterAsync();
        var id = await CreateAsync(user, "one");
        await CreateAsync(user, "two");
        await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { definition = Line(new { v = 2 }) }, user.AccessToken);
        await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { definition = Line(new { v = 3 }) }, user.AccessToken);
        var byName = await _client.ApiGetAsync("/api/v1/workflows?sortBy=name&sortOrder=asc&limit=1", user.AccessToken);
        var versions = await _client.ApiGetAsync($"/api/v1/workflows/{id}/versions?limit=1", user.AccessToken);
        var nameCursor = Uri.EscapeDataString(byName.Body!["pagination"]!["nextCursor"]!.GetValue<string>());
        var versionCursor = Uri.EscapeDataString(versions.Body!["pagination"]!["nextCursor"]!.GetValue<string>());

        var otherOrder = await _client.ApiGetAsync($"/api/v1/workflows?sortBy=createdAt&limit=1&cursor={nameCursor}", user.AccessToken);
        var otherDirection = await _client.ApiGetAsync($"/api/v1/workflows?sortBy=name&sortOrder=desc&limit=1&cursor={nameCursor}", user.AccessToken);
        var otherFilter = await _client.ApiGetAsync($"/api/v1/workflows?sortBy=name&sortOrder=asc&status=PAUSED&limit=1&cursor={nameCursor}", user.AccessToken);
        var otherTable = await _client.ApiGetAsync($"/api/v1/workflows?limit=1&cursor={versionCursor}", user.AccessToken);
        var garbage = await _client.ApiGetAsync("/api/v1/workflows?limit=1&cursor=not-a-cursor", user.AccessToken);

        Assert.All(new[] { otherOrder, otherDirection, otherFilter, otherTable, garbage }, r =>
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, r.Status);
            Assert.Equal("VALIDATION_ERROR", r.ErrorCode);
        });
    }

    [Fact]
    public async Task Versions_SpanningSeveralPages_AreCompleteAndNewestFirst()
    {
        var user = await _client.RegisterAsync();
        var id = await CreateAsync(user, "versioned");
        for (var v = 2; v <= 5; v++)
        {
            await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { definition = Line(new { v }) }, user.AccessToken);
        }

        var newest = await _client.ReadAllAsync($"/api/v1/workflows/{id}/versions?limit=2", user.AccessToken);
        var oldest = await _client.ReadAllAsync($"/api/v1/workflows/{id}/versions?sortBy=version&sortOrder=asc&limit=2", user.AccessToken);

        Assert.Equal([5, 4, 3, 2, 1], newest.Select(v => v["version"]!.GetValue<int>()));
        Assert.Equal([1, 2, 3, 4, 5], oldest.Select(v => v["version"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Delete_LeavesNoVersionRowsBehind()
    {
        var user = await _client.RegisterAsync();
        var id = await CreateAsync(user, "short-lived");
        await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { definition = Line(new { v = 2 }) }, user.AccessToken);
        await _client.ReadAllAsync($"/api/v1/workflows/{id}/versions?limit=1", user.AccessToken);

        await _client.ApiDeleteAsync($"/api/v1/workflows/{id}", user.AccessToken);

        var store = factory.Services.GetRequiredService<IEntityStore>();
        var rows = await store.QueryAsync("workflowversions", new() { PartitionKey = id, Take = 10 }, CancellationToken.None);
        Assert.Empty(rows.Items);
    }
}
