using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

/// <summary>Edge cases found in review: each of these was a 5xx, a leak or lost data before its fix.</summary>
public sealed class DatasetEdgeCaseTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task EmbeddingVectorsOfANewLength_AreA422WhileOldVectorsStay_AndSearchableAgainOnceReplaced()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user);
        await _client.UploadJsonAsync(user, dataset, new { id = "old", content = "Refunds are paid within ten days." });
        await _client.WaitForIngestionAsync(user, dataset);
        var search = $"/api/v1/datasets/{dataset}/search";
        try
        {
            // The provider's model now answers with another vector length (a model swapped behind the same name).
            fixture.Model.EmbeddingDimensions = 128;

            var mismatch = await _client.ApiPostAsync(search, new { query = "refunds", mode = "vector" }, user.AccessToken);
            Assert.True(mismatch.Status == HttpStatusCode.UnprocessableEntity, mismatch.Body?.ToJsonString());
            Assert.Contains("dimensions", mismatch.Body!["error"]!.ToJsonString(), StringComparison.Ordinal);

            // Emptied (the step before changing a dataset's model): nothing to compare, so nothing found, not an error.
            Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/datasets/{dataset}/documents/old", user.AccessToken)).Status);
            var empty = await _client.ApiPostAsync(search, new { query = "refunds", mode = "hybrid" }, user.AccessToken);
            Assert.True(empty.Status == HttpStatusCode.OK, empty.Body?.ToJsonString());
            Assert.Empty(empty.Data["chunks"]!.AsArray());

            await _client.UploadJsonAsync(user, dataset, new { id = "new", content = "Refunds are paid within five days." });
            await _client.WaitForIngestionAsync(user, dataset);
            var found = await _client.SearchAsync(user, dataset, new { query = "refunds", mode = "vector" });
            Assert.Equal(["new"], DatasetApi.DocumentIds(found));
        }
        finally
        {
            fixture.Model.EmbeddingDimensions = 256;
        }
    }
}
