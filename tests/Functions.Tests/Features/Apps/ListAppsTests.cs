using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Apps;

public sealed class ListAppsTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> CreateAsync(TestUser user, string name, string type, string status) =>
        (await _client.ApiPostAsync("/api/v1/apps", new { name, type, status }, user.AccessToken)).Data["id"]!.GetValue<string>();

    [Fact]
    public async Task List_SpanningSeveralPages_IsCompleteAndOrdered()
    {
        var user = await _client.RegisterAsync();
        var names = new[] { "delta", "Alpha", "echo", "Charlie", "bravo", "foxtrot", "Golf" };
        foreach (var name in names)
        {
            await CreateAsync(user, name, "chatbot", "draft");
        }

        var byName = await _client.ReadAllAsync("/api/v1/apps?sortBy=name&sortOrder=asc&limit=2", user.AccessToken);
        var newest = await _client.ReadAllAsync("/api/v1/apps?limit=3", user.AccessToken);

        Assert.Equal(names.OrderBy(n => n.ToLowerInvariant(), StringComparer.Ordinal), byName.Field("name"));
        Assert.Equal(names.Reverse(), newest.Field("name"));
    }

    [Fact]
    public async Task List_ByTypeAndStatus_PagesThroughOnlyTheMatchingApps()
    {
        var user = await _client.RegisterAsync();
        var published = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            published.Add(await CreateAsync(user, $"agent {i}", "agent", "published"));
            await CreateAsync(user, $"draft agent {i}", "agent", "draft");
            await CreateAsync(user, $"bot {i}", "chatbot", "published");
        }

        // An app that leaves a status leaves its list.
        await _client.ApiPutAsync($"/api/v1/apps/{published[1]}", new { status = "draft" }, user.AccessToken);

        var listed = await _client.ReadAllAsync("/api/v1/apps?type=agent&status=published&sortBy=createdAt&sortOrder=asc&limit=1", user.AccessToken);
        var invalid = await _client.ApiGetAsync("/api/v1/apps?type=robot", user.AccessToken);

        Assert.Equal([published[0], published[2], published[3]], listed.Field("id"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
    }
}
