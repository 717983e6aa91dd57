using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

public sealed class ListDatasetEventsTests(DatasetsFixture fixture) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<List<JsonNode>> WaitForEventsAsync(TestUser user, string dataset, int count)
    {
        for (var i = 0; ; i++)
        {
            var events = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/events?limit=100", user.AccessToken);
            if (events.Count >= count)
            {
                return events;
            }

            Assert.True(i < 400, $"{events.Count} of {count} events after 10 s.");
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task Events_SpanningSeveralPages_AreCompleteAndOldestBatchFirst()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "batches" });
        var batches = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            batches.Add((await _client.UploadJsonAsync(user, dataset, new { id = $"d{i}", content = $"Batch {i}." })).Data["batchId"]!.GetValue<string>());
            // Batch ids carry the millisecond they were accepted in; a pause keeps each batch in its own.
            await Task.Delay(5);
        }

        await WaitForEventsAsync(user, dataset, 5);

        var paged = await _client.ReadAllAsync($"/api/v1/datasets/{dataset}/events?limit=2", user.AccessToken);
        var second = await _client.ApiGetAsync($"/api/v1/datasets/{dataset}/events?page=2&limit=2", user.AccessToken);

        Assert.Equal(batches, paged.Select(e => e["payload"]!["batchId"]!.GetValue<string>()));
        Assert.Equal(paged.Skip(2).Take(2).Field("id"), second.Data.AsArray().Select(e => e!).Field("id"));
        Assert.Equal(5, second.Body!["meta"]!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Events_CursorOfAnotherDatasetOrNewestFirst_Is422()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "one" });
        var other = await _client.CreateDatasetAsync(user, new { name = "two" });
        foreach (var document in new[] { "a", "b" })
        {
            await _client.UploadJsonAsync(user, other, new { id = document, content = "Text " + document });
        }

        await WaitForEventsAsync(user, other, 2);
        var page = await _client.ApiGetAsync($"/api/v1/datasets/{other}/events?limit=1", user.AccessToken);
        var cursor = Uri.EscapeDataString(page.Body!["pagination"]!["nextCursor"]!.GetValue<string>());

        var foreign = await _client.ApiGetAsync($"/api/v1/datasets/{dataset}/events?limit=1&cursor={cursor}", user.AccessToken);
        var newestFirst = await _client.ApiGetAsync($"/api/v1/datasets/{other}/events?sortBy=time&sortOrder=desc", user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, foreign.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, newestFirst.Status);
    }
}
