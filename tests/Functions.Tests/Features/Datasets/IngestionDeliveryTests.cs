using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Datasets;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Features.Datasets;

/// <summary>Uploads above the general body limit but within the upload route's own limit; beyond it 413.</summary>
public sealed class SmallLimitsDatasetsFixture : DatasetsFixture
{
    public const int GeneralLimit = 64 * 1024;
    public const int UploadLimit = 512 * 1024;
    public const int FileLimit = 256 * 1024;

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Http:MaxRequestBodyBytes"] = GeneralLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Datasets:MaxUploadBytes"] = UploadLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Datasets:MaxFileBytes"] = FileLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The queue function's contract: at-least-once delivery, so duplicates and stale messages change nothing.</summary>
public sealed class IngestionDeliveryTests(SmallLimitsDatasetsFixture fixture) : IClassFixture<SmallLimitsDatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    /// <summary>What the IngestDocument queue function's handler did with one delivery.</summary>
    private Task<string> DeliverAsync(object message) =>
        fixture.Factory.Services.GetRequiredService<IngestDocument>().RunAsync(System.Text.Json.JsonSerializer.Serialize(message), 1, CancellationToken.None);

    [Fact]
    public async Task DuplicateAndStaleMessages_DoNothing()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        await _client.UploadJsonAsync(user, id, new { id = "doc", content = "Version one text." });
        await _client.WaitForIngestionAsync(user, id);
        await _client.UploadJsonAsync(user, id, new { id = "doc", content = "Version two text." });
        var before = Assert.Single(await _client.WaitForIngestionAsync(user, id));
        var updatedAt = before["updatedAt"]!.GetValue<string>();

        var duplicate = await DeliverAsync(new { workspaceId = user.PersonalWorkspaceId, datasetId = id, documentId = "doc", version = 2 });
        var stale = await DeliverAsync(new { workspaceId = user.PersonalWorkspaceId, datasetId = id, documentId = "doc", version = 1 });
        var garbage = await DeliverAsync(new { hello = "world" });

        Assert.Contains("Skipped", duplicate);
        Assert.Contains("Skipped", stale);
        Assert.Contains("Ignored", garbage);
        var after = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents/doc", user.AccessToken)).Data;
        Assert.Equal(updatedAt, after["updatedAt"]!.GetValue<string>());
        Assert.Equal(2, after["version"]!.GetValue<int>());
        Assert.Equal(["doc"], DatasetApi.DocumentIds(await _client.SearchAsync(user, id, new { query = "version two", mode = "fulltext" })));
        Assert.Empty((await _client.SearchAsync(user, id, new { query = "one", mode = "fulltext" }))["chunks"]!.AsArray());
    }

    [Fact]
    public async Task MessageForAnotherWorkspacesDocument_FindsNothing()
    {
        var owner = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(owner);
        await _client.UploadJsonAsync(owner, id, new { id = "doc", content = "Owner text." });
        await _client.WaitForIngestionAsync(owner, id);
        var other = await _client.RegisterAsync();

        var delivered = await DeliverAsync(new { workspaceId = other.PersonalWorkspaceId, datasetId = id, documentId = "doc", version = 1 });

        Assert.Contains("Skipped", delivered);
    }

    [Fact]
    public async Task Upload_LargerThanTheGeneralLimit_StreamsThrough_ButNotBeyondTheUploadLimit()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "big" });
        var line = "Tidal energy converts the movement of the sea into electricity.\n";
        var big = string.Concat(Enumerable.Repeat(line, (SmallLimitsDatasetsFixture.GeneralLimit * 3) / line.Length));

        var accepted = await _client.UploadFilesAsync(user.AccessToken, id, [UploadFile.Text("big.txt", big)]);
        var tooBig = await _client.UploadFilesAsync(user.AccessToken, id, [UploadFile.Text("huge.txt", big + big + big)]);
        var generalRoute = await _client.ApiPostAsync("/api/v1/datasets", new { name = big }, user.AccessToken);
        var jsonUpload = await _client.UploadJsonAsync(user, id, new { id = "json-big", content = big });

        Assert.True(accepted.Status == HttpStatusCode.Accepted, accepted.Body?.ToJsonString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.Status);
        Assert.Equal("PAYLOAD_TOO_LARGE", tooBig.ErrorCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, generalRoute.Status);
        // JSON is parsed whole, so it keeps the general limit even on the upload route.
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, jsonUpload.Status);
        var document = Assert.Single(await _client.WaitForIngestionAsync(user, id));
        Assert.Equal("completed", document["status"]!.GetValue<string>());
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(big), document["sizeBytes"]!.GetValue<long>());
    }

    [Fact]
    public async Task Upload_WithAFileOverThePerFileLimit_Is413_AndKeepsNoneOfTheRequestsFiles()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "per file" });
        var text = (int bytes) => new string('a', bytes - 1) + "\n";

        var refused = await _client.UploadFilesAsync(user.AccessToken, id,
            [UploadFile.Text("fine.txt", text(100 * 1024)), UploadFile.Text("over.txt", text(SmallLimitsDatasetsFixture.FileLimit + 1))]);
        var listed = await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents", user.AccessToken);
        var storedBlobs = await fixture.Factory.Services.GetRequiredService<IBlobStore>()
            .ListAsync("datasets", $"{user.PersonalWorkspaceId}/{id}/", CancellationToken.None).ToListAsync();
        var twoUnderTheLimit = await _client.UploadFilesAsync(user.AccessToken, id,
            [UploadFile.Text("one.txt", text(SmallLimitsDatasetsFixture.FileLimit)), UploadFile.Text("two.txt", text(200 * 1024))]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.Status);
        Assert.Equal("PAYLOAD_TOO_LARGE", refused.ErrorCode);
        Assert.Contains("'over.txt' is larger than the per-file limit", refused.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(listed.Data.AsArray());
        Assert.Empty(storedBlobs);
        Assert.True(twoUnderTheLimit.Status == HttpStatusCode.Accepted, twoUnderTheLimit.Body?.ToJsonString());
        Assert.Equal(2, (await _client.WaitForIngestionAsync(user, id, expected: 2)).Count);
    }
}
