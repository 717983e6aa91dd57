using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

public sealed class ListDocumentsTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<(TestUser User, string Dataset, string[] Titles)> DatasetWithDocumentsAsync(int count)
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "docs" });
        var titles = Enumerable.Range(0, count).Select(i => $"{(char)('a' + (i * 5 % count))} title {i}").ToArray();
        var uploaded = await _client.UploadJsonAsync(user, dataset, [.. titles.Select((t, i) => (object)new { id = $"doc-{i}", title = t, content = $"Body {i}." })]);
        Assert.Equal(HttpStatusCode.Accepted, uploaded.Status);
        await _client.WaitForIngestionAsync(user, dataset, expected: count);
        return (user, dataset, titles);
    }

    [Fact]
    public async Task List_SpanningSeveralPages_IsCompleteAndOrdered()
    {
        var (user, dataset, titles) = await DatasetWithDocumentsAsync(7);

        var byTitle = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?sortBy=title&sortOrder=asc&limit=3", user.AccessToken);
        var newest = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?limit=2", user.AccessToken);

        Assert.Equal(titles.Order(StringComparer.Ordinal), byTitle.Field("title"));
        Assert.Equal(7, newest.Field("id").Distinct().Count());
        Assert.Equal(newest.OrderByDescending(d => d["createdAt"]!.GetValue<DateTimeOffset>()).ThenByDescending(d => d["id"]!.GetValue<string>(), StringComparer.Ordinal).Field("id"),
            newest.Field("id"));
    }

    [Fact]
    public async Task List_ByStatus_PagesThroughThatStatusOnly()
    {
        var (user, dataset, _) = await DatasetWithDocumentsAsync(5);

        var completed = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?status=completed&limit=2", user.AccessToken);
        var waiting = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?status=waiting&limit=2", user.AccessToken);
        var invalid = await _client.ApiGetAsync($"/api/v1/datasets/{dataset}/documents?status=done", user.AccessToken);

        Assert.Equal(5, completed.Field("id").Distinct().Count());
        Assert.Empty(waiting);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
    }

    [Fact]
    public async Task DocumentId_StartingWithTilde_Is422_AndNamesNoDocument()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "reserved" });
        await _client.UploadJsonAsync(user, dataset, new { id = "plain", content = "Listed once." });
        await _client.WaitForIngestionAsync(user, dataset);
        await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?limit=1", user.AccessToken);

        var json = await _client.UploadJsonAsync(user, dataset, new { id = "~iv", content = "Not an id." });
        var multipart = await _client.UploadFilesAsync(user.AccessToken, dataset, [UploadFile.Text("note.txt", "Not an id either.")], [("documentId", "~ix|a")]);
        // The index keeps its own rows under '~' keys; no document path reaches them.
        var read = await _client.ApiGetAsync($"/api/v1/datasets/{dataset}/documents/~iv", user.AccessToken);
        var delete = await _client.ApiDeleteAsync($"/api/v1/datasets/{dataset}/documents/~iv", user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, json.Status);
        Assert.Equal("VALIDATION_ERROR", json.ErrorCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, multipart.Status);
        Assert.Equal(HttpStatusCode.NotFound, read.Status);
        Assert.Equal(HttpStatusCode.NotFound, delete.Status);
        Assert.Equal(["plain"], (await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?limit=1", user.AccessToken)).Field("id"));
    }

    [Fact]
    public async Task Embeddings_PageTheDocuments_OldestFirst_AndCountThemAll()
    {
        var (user, dataset, _) = await DatasetWithDocumentsAsync(5);

        var items = new List<JsonNode>();
        string? cursor = null;
        JsonNode first = null!;
        for (var page = 0; page < 10; page++)
        {
            var response = await _client.ApiGetAsync(
                $"/api/v1/datasets/{dataset}/embeddings?limit=2{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}", user.AccessToken);
            first ??= response.Data;
            Assert.True(response.Data["items"]!.AsArray().Count <= 2);
            items.AddRange(response.Data["items"]!.AsArray().Select(i => i!));
            cursor = response.Body!["pagination"]!["nextCursor"]?.GetValue<string>();
            if (cursor is null)
            {
                break;
            }
        }

        var documents = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?sortBy=createdAt&sortOrder=asc&limit=100", user.AccessToken);
        Assert.Equal(5, first["documents"]!.GetValue<int>());
        Assert.Equal(5, first["byStatus"]!["completed"]!.GetValue<int>());
        Assert.True(first["completed"]!.GetValue<bool>());
        Assert.Equal(documents.Field("id"), items.Field("id"));
    }
}
