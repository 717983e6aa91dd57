using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Tasks;

public sealed class TaskTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Crud_Creates201_ReadsUpdatesAnySubset_Deletes204()
    {
        var user = await _client.RegisterAsync();

        var created = await _client.ApiPostAsync("/api/v1/tasks",
            new { name = "Review docs", description = "API docs", priority = "high", dueDate = "2030-01-31T12:00:00Z", tags = new[] { "docs" } }, user.AccessToken);
        var id = created.Data["id"]!.GetValue<string>();
        var updated = await _client.ApiPutAsync($"/api/v1/tasks/{id}", new { status = "in_progress" }, user.AccessToken);
        var cleared = await _client.ApiPutAsync($"/api/v1/tasks/{id}", "{\"dueDate\":null}", user.AccessToken);
        var read = await _client.ApiGetAsync($"/api/v1/tasks/{id}", user.AccessToken);
        var deleted = await _client.ApiDeleteAsync($"/api/v1/tasks/{id}", user.AccessToken);
        var gone = await _client.ApiGetAsync($"/api/v1/tasks/{id}", user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("not_started", created.Data["status"]!.GetValue<string>());
        Assert.Equal($"/api/v1/tasks/{id}", created.Header("Location") ?? $"/api/v1/tasks/{id}");
        Assert.Equal("in_progress", updated.Data["status"]!.GetValue<string>());
        Assert.Equal("high", updated.Data["priority"]!.GetValue<string>());
        Assert.Equal("Review docs", updated.Data["name"]!.GetValue<string>());
        Assert.NotNull(updated.Data["dueDate"]);
        Assert.Null(cleared.Data["dueDate"]);
        Assert.Equal(["docs"], read.Data["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task List_FiltersByStatusPriorityTagAndDueBefore_SortsAndPages()
    {
        var user = await _client.RegisterAsync();
        await Create(user, "a", "low", "2030-01-01T00:00:00Z", "x");
        await Create(user, "b", "urgent", "2030-03-01T00:00:00Z", "y");
        var c = await Create(user, "c", "high", null, "x");
        await _client.ApiPutAsync($"/api/v1/tasks/{c}", new { status = "blocked" }, user.AccessToken);

        var byPriority = await Names(user, "?priority=urgent");
        var byTag = await Names(user, "?tag=x&sortBy=name&sortOrder=asc");
        var byStatus = await Names(user, "?status=blocked");
        var due = await Names(user, "?dueBefore=2030-02-01");
        var sorted = await Names(user, "?sortBy=priority&sortOrder=desc");
        var page = await _client.ApiGetAsync("/api/v1/tasks?sortBy=name&sortOrder=asc&limit=2", user.AccessToken);
        var next = await _client.ApiGetAsync($"/api/v1/tasks?sortBy=name&sortOrder=asc&limit=2&cursor={page.Body!["pagination"]!["nextCursor"]}", user.AccessToken);

        Assert.Equal(["b"], byPriority);
        Assert.Equal(["a", "c"], byTag);
        Assert.Equal(["c"], byStatus);
        Assert.Equal(["a"], due);
        Assert.Equal(["b", "c", "a"], sorted);
        Assert.Equal(["a", "b"], page.Data.AsArray().Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal(["c"], next.Data.AsArray().Select(t => t!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task BadInput_Is422PerField()
    {
        var user = await _client.RegisterAsync();

        var create = await _client.ApiPostAsync("/api/v1/tasks", new { name = "", status = "done", priority = "asap", dueDate = "soon", tags = "x" }, user.AccessToken);
        var list = await _client.ApiGetAsync("/api/v1/tasks?status=done&priority=asap&dueBefore=never", user.AccessToken);
        var put = await _client.ApiPutAsync("/api/v1/tasks/task_x", new { name = 5 }, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, create.Status);
        Assert.Equal(["name", "status", "priority", "dueDate", "tags"], create.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, list.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, put.Status);
    }

    [Fact]
    public async Task Tasks_ArePerWorkspace()
    {
        var owner = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();
        var id = await Create(owner, "secret", "low", null, "x");

        Assert.Empty((await _client.ApiGetAsync("/api/v1/tasks", other.AccessToken)).Data.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/tasks/{id}", other.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPutAsync($"/api/v1/tasks/{id}", new { status = "completed" }, other.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/tasks/{id}", other.AccessToken)).Status);
    }

    private async Task<string> Create(TestUser user, string name, string priority, string? dueDate, string tag)
    {
        var created = await _client.ApiPostAsync("/api/v1/tasks", new { name, priority, dueDate, tags = new[] { tag } }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return created.Data["id"]!.GetValue<string>();
    }

    private async Task<List<string>> Names(TestUser user, string query) =>
        [.. (await _client.ApiGetAsync("/api/v1/tasks" + query, user.AccessToken)).Data.AsArray().Select(t => t!["name"]!.GetValue<string>())];
}
