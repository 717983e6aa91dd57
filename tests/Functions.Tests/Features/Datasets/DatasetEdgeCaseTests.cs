using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

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

    [Fact]
    public async Task DatasetDeleted_WhileAnUploadStreams_TheUploadIs404_AndLeavesNoDocumentsFilesOrBatchRows()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "deleted mid-upload" });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const string boundary = "edge-boundary";
        string Part(string file) => $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\nContent-Type: text/plain\r\n\r\n";
        // The first file whole and the second one begun: the first is stored while the request waits for the rest.
        var before = Part("a.txt") + "Written before the dataset went.\r\n" + Part("b.txt") + "Written";
        var after = $" after it went.\r\n--{boundary}--\r\n";
        using var content = new GatedContent(Encoding.ASCII.GetBytes(before), gate.Task, Encoding.ASCII.GetBytes(after));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/datasets/{dataset}/upload") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);

        // The server's own client: the factory's default one buffers request bodies (to replay them on redirects).
        using var streaming = fixture.Factory.Server.CreateClient();
        var upload = streaming.SendAsync(request);
        var prefix = $"{user.PersonalWorkspaceId}/{dataset}/";
        var blobs = fixture.Factory.Services.GetRequiredService<IBlobStore>();
        // The first file is in the blob store (the upload is past its dataset check) before the dataset goes.
        for (var i = 0; (await blobs.ListAsync("datasets", prefix, CancellationToken.None).ToListAsync()).Count == 0; i++)
        {
            Assert.True(i < 400, "The first file was never stored.");
            await Task.Delay(25);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/datasets/{dataset}", user.AccessToken)).Status);
        gate.SetResult();
        using var response = await upload;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await blobs.ListAsync("datasets", prefix, CancellationToken.None).ToListAsync());
        var store = fixture.Factory.Services.GetRequiredService<IEntityStore>();
        foreach (var table in new[] { "datasetdocuments", "datasetbatches" })
        {
            var rows = await store.QueryAsync(table, new EntityQuery { PartitionKey = $"{user.PersonalWorkspaceId}:{dataset}", Take = 10 }, CancellationToken.None);
            Assert.Empty(rows.Items);
        }
    }

    [Fact]
    public async Task Docx_ThatInflatesBeyondTheXmlLimit_EndsInError_InsteadOfBeingReadWhole()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user, new { name = "zip bomb" });
        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            await using var xml = zip.CreateEntry("word/document.xml", System.IO.Compression.CompressionLevel.SmallestSize).Open();
            var paragraph = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("<w:p><w:r><w:t>all work and no play </w:t></w:r></w:p>", 16_384)));
            await xml.WriteAsync(Encoding.UTF8.GetBytes("<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>"));
            for (long written = 0; written <= 65L * 1024 * 1024; written += paragraph.Length)
            {
                await xml.WriteAsync(paragraph);
            }

            await xml.WriteAsync(Encoding.UTF8.GetBytes("</w:body></w:document>"));
        }

        var upload = await _client.UploadFilesAsync(user.AccessToken, dataset, [new UploadFile("bomb.docx", buffer.ToArray())]);
        Assert.True(upload.Status == HttpStatusCode.Accepted, upload.Body?.ToJsonString());
        Assert.True(buffer.Length < 1024 * 1024, $"The file is {buffer.Length} bytes.");

        var document = Assert.Single(await _client.WaitForIngestionAsync(user, dataset, seconds: 60));
        Assert.Equal("error", document["status"]!.GetValue<string>());
        Assert.Contains("unpacks to more than", document["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("search", """{"query":"\ud800 refunds","mode":"hybrid"}""")]
    [InlineData("upload", """{"documents":[{"id":"lone","content":"text \udc00 here"}]}""")]
    [InlineData("create", """{"name":"n","chunking":{"mode":"general","size":100,"overlap":10,"separators":["\ud800"]}}""")]
    [InlineData("rag", """{"query":"refunds \ud83d","namespace":"default"}""")]
    public async Task LoneSurrogates_InAnyJsonBody_AreA400_NotA500(string route, string body)
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user);
        var url = route switch
        {
            "search" => $"/api/v1/datasets/{dataset}/search",
            "upload" => $"/api/v1/datasets/{dataset}/upload",
            "create" => "/api/v1/datasets",
            _ => "/api/v1/rag/query",
        };

        var response = await PostRawAsync(user, url, body);

        Assert.True(response.Status == HttpStatusCode.BadRequest, response.Body?.ToJsonString());
        Assert.Equal("INVALID_REQUEST", response.ErrorCode);
    }

    [Theory]
    [InlineData("""{"documents":[{"id":"inf","content":"x","metadata":{"n":1e400}}]}""", "documents[0].metadata.n")]
    [InlineData("""{"documents":[{"id":"big","content":"x","metadata":{"s":"BIG"}}]}""", "documents[0].metadata")]
    public async Task Metadata_NonFiniteNumbers_OrOversized_AreA422(string body, string field)
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user);

        var response = await PostRawAsync(user, $"/api/v1/datasets/{dataset}/upload", body.Replace("BIG", new string('m', 20_000), StringComparison.Ordinal));

        Assert.True(response.Status == HttpStatusCode.UnprocessableEntity, response.Body?.ToJsonString());
        Assert.Contains(response.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task MultipartMetadata_WithALoneSurrogate_IsA422()
    {
        var user = await _client.RegisterAsync();
        var dataset = await _client.CreateDatasetAsync(user);

        var response = await _client.UploadFilesAsync(user.AccessToken, dataset, [UploadFile.Text("a.txt", "text")], [("metadata", """{"s":"\ud800"}""")]);

        Assert.True(response.Status == HttpStatusCode.UnprocessableEntity, response.Body?.ToJsonString());
    }

    private async Task<ApiResponse> PostRawAsync(TestUser user, string url, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await _client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new ApiResponse(response.StatusCode, text.Length > 0 ? System.Text.Json.Nodes.JsonNode.Parse(text) : null, response.Headers);
    }

    /// <summary>A request body sent in two parts, the second only once <c>gate</c> completes.</summary>
    private sealed class GatedContent(byte[] first, Task gate, byte[] rest) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            await gate;
            await stream.WriteAsync(rest);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
