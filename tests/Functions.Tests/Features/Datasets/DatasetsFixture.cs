using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

/// <summary>
/// The app with its trigger host on (so ingestion runs) over one fake OpenAI-compatible upstream: <c>gpt-test</c>
/// (chat) and <c>embed-test</c> (embeddings: the fake's deterministic bag-of-words vectors, 256 dimensions).
/// </summary>
public class DatasetsFixture : IAsyncLifetime
{
    public const string ChatModel = "gpt-test";
    public const string EmbeddingModel = "embed-test";

    public FakeModelServer Model { get; private set; } = null!;

    public PlatformFactory Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    protected virtual IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    public virtual async Task InitializeAsync()
    {
        Model = await FakeModelServer.StartAsync();
        Model.EmbeddingDimensions = 256;
        var settings = new Dictionary<string, string?>
        {
            ["Triggers:Enabled"] = "true",
            ["Models:Providers:0:Name"] = "fake",
            ["Models:Providers:0:Kind"] = "openai-compatible",
            ["Models:Providers:0:BaseUrl"] = Model.OpenAiBase,
            ["Models:Providers:0:Models:0:Id"] = ChatModel,
            ["Models:Providers:0:Models:1:Id"] = EmbeddingModel,
            ["Models:Providers:0:Models:1:Embedding"] = "true",
            ["Models:MaxRetries"] = "0",
            ["Models:RequestTimeoutSeconds"] = "10",
            ["RateLimits:ExecutePerMinute"] = "100000",
            ["Workflows:HeartbeatSeconds"] = "1",
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        Factory = PlatformFactory.With(settings);
        Client = Factory.CreateClient();
        // The first user becomes platform admin; taking that seat here keeps every test's own users ordinary.
        await Client.RegisterAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Model.DisposeAsync();
    }
}

/// <summary>A named file for a multipart upload.</summary>
public sealed record UploadFile(string Name, byte[] Content)
{
    public static UploadFile Text(string name, string content) => new(name, Encoding.UTF8.GetBytes(content));
}

public static class DatasetApi
{
    public static async Task<string> CreateDatasetAsync(this HttpClient client, TestUser user, object? body = null)
    {
        var created = await client.ApiPostAsync("/api/v1/datasets", body ?? new { name = "kb", embeddingModel = DatasetsFixture.EmbeddingModel }, user.AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data["id"]!.GetValue<string>();
    }

    public static async Task<ApiResponse> UploadJsonAsync(this HttpClient client, TestUser user, string datasetId, params object[] documents) =>
        await client.ApiPostAsync($"/api/v1/datasets/{datasetId}/upload", new { documents }, user.AccessToken);

    /// <summary>Multipart upload; <paramref name="fields"/> are form fields sent before the files.</summary>
    public static async Task<ApiResponse> UploadFilesAsync(this HttpClient client, string token, string datasetId, IEnumerable<UploadFile> files,
        IEnumerable<(string Name, string Value)>? fields = null)
    {
        using var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields ?? [])
        {
            content.Add(new StringContent(value), name);
        }

        foreach (var file in files)
        {
            var part = new ByteArrayContent(file.Content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "file", file.Name);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/datasets/{datasetId}/upload") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new ApiResponse(response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null, response.Headers);
    }

    /// <summary>Polls the dataset until every document has finished (completed or error); returns the documents.</summary>
    public static async Task<List<JsonNode>> WaitForIngestionAsync(this HttpClient client, TestUser user, string datasetId, int expected = 1, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var list = await client.ApiGetAsync($"/api/v1/datasets/{datasetId}/documents?limit=100", user.AccessToken);
            var documents = list.Data.AsArray().Select(d => d!).ToList();
            if (documents.Count >= expected && documents.All(d => d["status"]!.GetValue<string>() is "completed" or "error"))
            {
                return documents;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Ingestion did not finish in {seconds} s: {list.Body?.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    public static async Task<JsonNode> SearchAsync(this HttpClient client, TestUser user, string datasetId, object body)
    {
        var response = await client.ApiPostAsync($"/api/v1/datasets/{datasetId}/search", body, user.AccessToken);
        Assert.True(response.Status == HttpStatusCode.OK, response.Body?.ToJsonString());
        return response.Data;
    }

    public static List<string> DocumentIds(JsonNode searchResult) =>
        [.. searchResult["chunks"]!.AsArray().Select(c => c!["documentId"]!.GetValue<string>())];

    /// <summary>A minimal .docx: the parts Word needs, with one w:p per paragraph (runs split to exercise w:t joining).</summary>
    public static byte[] Docx(params string[] paragraphs)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>
                """);
            Write(zip, "_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>
                """);
            var body = string.Concat(paragraphs.Select(p =>
            {
                var half = p.Length / 2;
                return $"<w:p><w:r><w:t xml:space=\"preserve\">{System.Security.SecurityElement.Escape(p[..half])}</w:t></w:r><w:r><w:t>{System.Security.SecurityElement.Escape(p[half..])}</w:t></w:r></w:p>";
            }));
            Write(zip, "word/document.xml",
                $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>");
        }

        return buffer.ToArray();
    }

    private static void Write(ZipArchive zip, string name, string content)
    {
        using var stream = zip.CreateEntry(name).Open();
        stream.Write(Encoding.UTF8.GetBytes(content.Trim()));
    }
}
