using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

public sealed class DatasetCrudTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Create_Get_List_Update_Delete_RoundTrip()
    {
        var user = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/datasets", new
        {
            name = "Handbook",
            description = "HR policies",
            embeddingModel = DatasetsFixture.EmbeddingModel,
            chunking = new { mode = "paragraph", size = 500, overlap = 50, separators = new[] { "\n\n", "\n" } },
            metadataFields = new[] { new { name = "topic", type = "string" }, new { name = "year", type = "number" } },
        }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = created.Data["id"]!.GetValue<string>();
        Assert.Equal($"/api/v1/datasets/{id}", created.Header("Location") ?? created.Headers.Location?.ToString());
        Assert.Equal("paragraph", created.Data["chunking"]!["mode"]!.GetValue<string>());
        Assert.Equal(2, created.Data["metadataFields"]!.AsArray().Count);

        var fetched = await _client.ApiGetAsync($"/api/v1/datasets/{id}", user.AccessToken);
        Assert.Equal("Handbook", fetched.Data["name"]!.GetValue<string>());
        Assert.Equal(DatasetsFixture.EmbeddingModel, fetched.Data["embeddingModel"]!.GetValue<string>());

        var list = await _client.ApiGetAsync("/api/v1/datasets?search=handbook", user.AccessToken);
        Assert.Single(list.Data.AsArray());

        var updated = await _client.ApiPutAsync($"/api/v1/datasets/{id}", new { description = "All HR policies", chunking = new { mode = "general", size = 300, overlap = 30 } }, user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, updated.Status);
        Assert.Equal("All HR policies", updated.Data["description"]!.GetValue<string>());
        Assert.Equal("Handbook", updated.Data["name"]!.GetValue<string>());
        Assert.Equal(300, updated.Data["chunking"]!["size"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}", user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/datasets/{id}", user.AccessToken)).Status);
    }

    [Theory]
    [InlineData("""{"description":"no name"}""", "name")]
    [InlineData("""{"name":"x","chunking":{"mode":"sentences"}}""", "chunking.mode")]
    [InlineData("""{"name":"x","chunking":{"size":10}}""", "chunking.size")]
    [InlineData("""{"name":"x","chunking":{"size":9000}}""", "chunking.size")]
    [InlineData("""{"name":"x","chunking":{"size":200,"overlap":200}}""", "chunking.overlap")]
    [InlineData("""{"name":"x","chunking":{"separators":"\n"}}""", "chunking.separators")]
    [InlineData("""{"name":"x","embeddingModel":"gpt-test"}""", "embeddingModel")]
    [InlineData("""{"name":"x","embeddingModel":"no-such-model"}""", "embeddingModel")]
    [InlineData("""{"name":"x","metadataFields":[{"name":"year","type":"date"}]}""", "metadataFields[0].type")]
    public async Task Create_InvalidBody_Is422WithTheField(string body, string field)
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiPostAsync("/api/v1/datasets", body, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Contains(response.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task Update_EmbeddingModelWhileHoldingDocuments_IsConflict()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "plain" });
        await _client.UploadJsonAsync(user, id, new { id = "a", content = "Some text about gardens." });
        await _client.WaitForIngestionAsync(user, id);

        var response = await _client.ApiPutAsync($"/api/v1/datasets/{id}", new { embeddingModel = DatasetsFixture.EmbeddingModel }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, response.Status);
    }

    [Fact]
    public async Task AnotherWorkspacesDataset_IsNotFoundEverywhere()
    {
        var owner = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(owner);
        await _client.UploadJsonAsync(owner, id, new { id = "secret", content = "The vault code is 4711." });
        await _client.WaitForIngestionAsync(owner, id);

        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/datasets/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPutAsync($"/api/v1/datasets/{id}", new { name = "mine" }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents/secret", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/datasets/{id}/embeddings", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.UploadJsonAsync(stranger, id, new { id = "x", content = "y" })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync($"/api/v1/datasets/{id}/search", new { query = "vault code", mode = "fulltext" }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync("/api/v1/datasets/search", new { datasetIds = new[] { id }, query = "vault code", mode = "fulltext" }, stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}/documents/secret", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}", stranger.AccessToken)).Status);
        Assert.Empty((await _client.ApiGetAsync("/api/v1/datasets", stranger.AccessToken)).Data.AsArray());

        // Still there for its owner.
        var search = await _client.SearchAsync(owner, id, new { query = "vault code", mode = "fulltext" });
        Assert.Equal(["secret"], DatasetApi.DocumentIds(search));
    }

    [Fact]
    public async Task ApiKeyScopes_ReadKeyCannotWrite()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        var key = await _client.CreateKeyAsync(user, ["datasets:read"]);

        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync($"/api/v1/datasets/{id}", null, Users.ApiKey(key))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _client.ApiPostAsync("/api/v1/datasets", new { name = "x" }, null, Users.ApiKey(key))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}", null, Users.ApiKey(key))).Status);
    }
}
