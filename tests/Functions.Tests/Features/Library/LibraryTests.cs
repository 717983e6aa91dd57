using System.Net;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Library;

public sealed class LibraryTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Agents_SaveUpdateFavouriteListAndDelete()
    {
        var user = await _client.RegisterAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, Line(new { }), "researcher");

        var saved = await _client.ApiPostAsync("/api/v1/library/agents", new { workflowId }, user.AccessToken);
        var id = saved.Data["id"]!.GetValue<string>();
        var favourite = await _client.ApiPutAsync($"/api/v1/library/agents/{id}", new { isFavorite = true, name = "My researcher" }, user.AccessToken);
        var favourites = await _client.ApiGetAsync("/api/v1/library/agents?status=favorite", user.AccessToken);
        var missingWorkflow = await _client.ApiPostAsync("/api/v1/library/agents", new { workflowId = "wf_nope" }, user.AccessToken);
        var missingVersion = await _client.ApiPostAsync("/api/v1/library/agents", new { workflowId, workflowVersion = 9 }, user.AccessToken);
        var deleted = await _client.ApiDeleteAsync($"/api/v1/library/agents/{id}", user.AccessToken);

        Assert.Equal("researcher", saved.Data["name"]!.GetValue<string>());
        Assert.True(favourite.Data["isFavorite"]!.GetValue<bool>());
        Assert.Equal("My researcher", Assert.Single(favourites.Data.AsArray())!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, missingWorkflow.Status);
        Assert.Equal(HttpStatusCode.NotFound, missingVersion.Status);
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync($"/api/v1/workflows/{workflowId}", user.AccessToken)).Status);
    }

    [Fact]
    public async Task Preset_ExecutesItsWorkflowWithSavedInputs_OverriddenByGivenOnes()
    {
        var user = await _client.RegisterAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, Line(new { city = "{{inputs.city}}", days = "{{inputs.days}}" }));
        var preset = await _client.ApiPostAsync("/api/v1/library/presets", new { workflowId, name = "Weekend in Oslo", inputs = new { city = "Oslo", days = 2 } }, user.AccessToken);
        var id = preset.Data["id"]!.GetValue<string>();

        var plain = await _client.ApiPostAsync($"/api/v1/library/presets/{id}/execute", new { }, user.AccessToken);
        var overridden = await _client.ApiPostAsync($"/api/v1/library/presets/{id}/execute", new { inputs = new { days = 5 } }, user.AccessToken);
        var plainRun = await _client.WaitForAsync(user, plain.Data["executionId"]!.GetValue<string>());
        var overriddenRun = await _client.WaitForAsync(user, overridden.Data["executionId"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Accepted, plain.Status);
        Assert.Equal("Oslo", plainRun["outputs"]!["city"]!.GetValue<string>());
        Assert.Equal(2, plainRun["outputs"]!["days"]!.GetValue<int>());
        Assert.Equal(5, overriddenRun["outputs"]!["days"]!.GetValue<int>());
        Assert.Equal(id, overriddenRun["metadata"]!["presetId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Presets_UpdateFilterAndIsolation()
    {
        var user = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var first = await _client.CreateWorkflowAsync(user, Line(new { }));
        var second = await _client.CreateWorkflowAsync(user, Line(new { }));
        var preset = await _client.ApiPostAsync("/api/v1/library/presets", new { workflowId = first, name = "a" }, user.AccessToken);
        await _client.ApiPostAsync("/api/v1/library/presets", new { workflowId = second, name = "b" }, user.AccessToken);
        var id = preset.Data["id"]!.GetValue<string>();

        var updated = await _client.ApiPutAsync($"/api/v1/library/presets/{id}", new { inputs = new { x = 1 } }, user.AccessToken);
        var filtered = await _client.ApiGetAsync($"/api/v1/library/presets?workflowId={first}", user.AccessToken);

        Assert.Equal(1, updated.Data["inputs"]!["x"]!.GetValue<int>());
        Assert.Equal("a", Assert.Single(filtered.Data.AsArray())!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/library/presets/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync($"/api/v1/library/presets/{id}/execute", new { }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/library/presets", new { workflowId = first }, user.AccessToken)).Status);
    }

    [Fact]
    public async Task Agents_SpanningSeveralPages_AreCompleteAndOrdered_AndFavouritesPageApart()
    {
        var user = await _client.RegisterAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, Line(new { }));
        var names = new[] { "mike", "Lima", "oscar", "November", "kilo", "Papa" };
        var favourites = new List<string>();
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            var saved = await _client.ApiPostAsync("/api/v1/library/agents", new { workflowId, name, isFavorite = i % 2 == 0 }, user.AccessToken);
            if (i % 2 == 0)
            {
                favourites.Add(saved.Data["id"]!.GetValue<string>());
            }
        }

        var byName = await _client.ReadAllAsync("/api/v1/library/agents?sortBy=name&sortOrder=desc&limit=4", user.AccessToken);
        var favourite = await _client.ReadAllAsync("/api/v1/library/agents?status=Favorite&sortBy=createdAt&sortOrder=asc&limit=1", user.AccessToken);

        Assert.Equal(names.OrderByDescending(n => n.ToLowerInvariant(), StringComparer.Ordinal), byName.Field("name"));
        Assert.Equal(favourites, favourite.Field("id"));
    }

    [Fact]
    public async Task Presets_SpanningSeveralPages_AreCompleteAndOrdered_PerWorkflowToo()
    {
        var user = await _client.RegisterAsync();
        var first = await _client.CreateWorkflowAsync(user, Line(new { }));
        var second = await _client.CreateWorkflowAsync(user, Line(new { }));
        var ofFirst = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var preset = await _client.ApiPostAsync("/api/v1/library/presets", new { workflowId = first, name = $"first {i}" }, user.AccessToken);
            ofFirst.Add(preset.Data["id"]!.GetValue<string>());
            await _client.ApiPostAsync("/api/v1/library/presets", new { workflowId = second, name = $"second {i}" }, user.AccessToken);
        }

        var all = await _client.ReadAllAsync("/api/v1/library/presets?limit=3", user.AccessToken);
        var firstOnly = await _client.ReadAllAsync($"/api/v1/library/presets?workflowId={first}&limit=2", user.AccessToken);

        Assert.Equal(10, all.Field("id").Distinct().Count());
        Assert.Equal(all.OrderByDescending(p => p["createdAt"]!.GetValue<DateTimeOffset>()).Field("id"), all.Field("id"));
        Assert.Equal(Enumerable.Reverse(ofFirst), firstOnly.Field("id"));
    }
}
