using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

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

    [Fact]
    public async Task List_OfDocumentsWithTheLongestIds_IsCompleteAndOrdered()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "long ids" });
        var ids = Enumerable.Range(0, 4).Select(i => $"{i}" + new string('x', 120) + $".long{i}").ToList();
        foreach (var id in ids)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _client.UploadJsonAsync(user, dataset, new { id, title = $"t{3 - ids.IndexOf(id)}", content = "Long." })).Status);
        }

        await _client.WaitForIngestionAsync(user, dataset, expected: 4);
        var deleted = await _client.ApiDeleteAsync($"/api/v1/datasets/{dataset}/documents/{ids[1]}", user.AccessToken);

        var oldest = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?sortBy=createdAt&sortOrder=asc&limit=2", user.AccessToken);
        var byTitle = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?sortBy=title&sortOrder=asc&limit=1", user.AccessToken);
        var read = await _client.ApiGetAsync($"/api/v1/datasets/{dataset}/documents/{ids[2]}", user.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal([ids[0], ids[2], ids[3]], oldest.Field("id"));
        Assert.Equal([ids[3], ids[2], ids[0]], byTitle.Field("id"));
        Assert.Equal(ids[2], read.Data["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Documents_WrittenBeforeTheIndex_AreReadAndListed_LongIdsToo()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "legacy" });
        var store = fixture.Factory.Services.GetRequiredService<IEntityStore>();
        var partition = $"{user.PersonalWorkspaceId}:{dataset}";
        var ids = new[] { "short-one", "L" + new string('y', 127) };
        for (var i = 0; i < ids.Length; i++)
        {
            var at = DateTimeOffset.UtcNow.AddMinutes(i - 10);
            var row = new JsonObject
            {
                ["id"] = ids[i], ["datasetId"] = dataset, ["title"] = $"legacy {i}", ["source"] = "upload", ["format"] = "txt",
                ["blobName"] = $"{user.PersonalWorkspaceId}/{dataset}/{ids[i]}/old", ["sizeBytes"] = 1, ["metadata"] = new JsonObject(),
                ["status"] = "completed", ["error"] = null, ["chunksDone"] = 1, ["chunksTotal"] = 1, ["version"] = 1, ["batchId"] = "batch_old",
                ["createdAt"] = at, ["updatedAt"] = at, ["completedAt"] = at,
            };
            await store.InsertAsync("datasetdocuments", partition, ids[i], row.ToJsonString(), CancellationToken.None);
        }

        // Read by id before any list has indexed the partition.
        var read = await _client.ApiGetAsync($"/api/v1/datasets/{dataset}/documents/{ids[1]}", user.AccessToken);
        var listed = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/documents?limit=1", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal([ids[1], ids[0]], listed.Field("id"));
    }
}
