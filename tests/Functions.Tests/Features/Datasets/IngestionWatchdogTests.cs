using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Datasets;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Features.Datasets;

/// <summary>No trigger host: the test plays the Functions host, so it can lose a message on purpose.</summary>
public sealed class HostDrivenDatasetsFixture : DatasetsFixture
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "false",
        ["Datasets:StalledAfterMinutes"] = "1",
    };
}

public sealed class IngestionWatchdogTests(HostDrivenDatasetsFixture fixture) : IClassFixture<HostDrivenDatasetsFixture>
{
    private const string Queue = "dataset-ingest";

    private readonly HttpClient _client = fixture.Client;

    private IWorkQueue WorkQueue => fixture.Factory.Services.GetRequiredService<IWorkQueue>();

    private async Task<IReadOnlyList<QueueMessage>> TakeAllAsync()
    {
        var taken = await WorkQueue.DequeueAsync(Queue, 32, TimeSpan.FromMinutes(30), CancellationToken.None);
        foreach (var message in taken)
        {
            await WorkQueue.DeleteAsync(Queue, message.Id, message.PopReceipt, CancellationToken.None);
        }

        return taken;
    }

    /// <summary>The watchdog the IngestionWatchdog timer function runs; returns how many documents it re-queued.</summary>
    private async Task<int> WatchdogAsync() =>
        (await fixture.Factory.Services.GetRequiredService<IngestionWatchdog>().RunAsync(CancellationToken.None)).Requeued;

    private Task DeliverAsync(QueueMessage message) =>
        TriggerInvoker.InvokeAsync(fixture.Factory.Services, "IngestDocument", message.Body, message.DequeueCount);

    [Fact]
    public async Task DocumentWhoseMessageWasLost_IsQueuedAgainOnceStalled_AndThenIngested()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "plain" });
        await _client.UploadJsonAsync(user, id, new { id = "lost", content = "Lighthouses guide ships past the reef at night." });
        var lost = await TakeAllAsync();

        var tooEarly = await WatchdogAsync();
        fixture.Factory.Clock.Advance(TimeSpan.FromMinutes(2));
        var requeued = await WatchdogAsync();
        var again = await TakeAllAsync();
        foreach (var message in again)
        {
            await DeliverAsync(message);
        }

        fixture.Factory.Clock.Advance(TimeSpan.FromMinutes(2));
        var afterwards = await WatchdogAsync();

        Assert.Single(lost);
        Assert.Equal(0, tooEarly);
        Assert.Equal(1, requeued);
        Assert.Equal(lost[0].Body, Assert.Single(again).Body);
        var document = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents/lost", user.AccessToken)).Data;
        Assert.Equal("completed", document["status"]!.GetValue<string>());
        Assert.Equal(["lost"], DatasetApi.DocumentIds(await _client.SearchAsync(user, id, new { query = "lighthouses", mode = "fulltext" })));
        Assert.Equal(0, afterwards);
        Assert.Empty(await TakeAllAsync());
    }

    [Fact]
    public async Task DocumentsThatWereIngested_OrDeleted_AreNotQueuedAgain()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "plain" });
        await _client.UploadJsonAsync(user, id, new { id = "kept", content = "Kept text." }, new { id = "gone", content = "Deleted text." });
        foreach (var message in await TakeAllAsync())
        {
            await DeliverAsync(message);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}/documents/gone", user.AccessToken)).Status);
        fixture.Factory.Clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(0, await WatchdogAsync());
        Assert.Empty(await TakeAllAsync());
    }
}
