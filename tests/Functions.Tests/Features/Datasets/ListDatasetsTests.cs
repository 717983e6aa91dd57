using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

public sealed class ListDatasetsTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task List_SpanningSeveralPages_IsCompleteAndOrdered()
    {
        var user = await _client.RegisterAsync();
        var names = new[] { "Sierra", "quebec", "Romeo", "tango", "papa", "Uniform", "victor" };
        var ids = new List<string>();
        foreach (var name in names)
        {
            ids.Add(await _client.CreateDatasetAsync(user, new { name }));
        }

        await _client.ApiPutAsync($"/api/v1/datasets/{ids[2]}", new { description = "touched" }, user.AccessToken);

        var byName = await _client.ReadAllAsync("/api/v1/datasets?sortBy=name&sortOrder=desc&limit=2", user.AccessToken);
        var oldest = await _client.ReadAllAsync("/api/v1/datasets?sortBy=createdAt&sortOrder=asc&limit=3", user.AccessToken);
        var touched = await _client.ReadAllAsync("/api/v1/datasets?sortBy=updatedAt&sortOrder=desc&limit=3", user.AccessToken);

        Assert.Equal(names.OrderByDescending(n => n.ToLowerInvariant(), StringComparer.Ordinal), byName.Field("name"));
        Assert.Equal(ids, oldest.Field("id"));
        Assert.Equal([ids[2], ids[6], ids[5], ids[4], ids[3], ids[1], ids[0]], touched.Field("id"));
    }
}
