using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Datasets;

/// <summary>Embeddings in batches of two, so a document of several chunks shows its progress batch by batch.</summary>
public sealed class SmallBatchDatasetsFixture : DatasetsFixture
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?> { ["Datasets:EmbeddingBatchSize"] = "2" };
}

public sealed class UploadAndIngestionTests(SmallBatchDatasetsFixture fixture) : IClassFixture<SmallBatchDatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    public static TheoryData<string, byte[], string, string> Files => new()
    {
        { "notes.txt", Encoding.UTF8.GetBytes("Plain notes.\n\nThe lighthouse keeper logs storms every night."), "lighthouse storms", "lighthouse keeper" },
        { "guide.md", Encoding.UTF8.GetBytes("# Setup guide\n\nInstall the **compressor** first.\n\n## Cooling\n\nThe refrigerant loop needs `R-134a`."), "refrigerant loop", "Cooling" },
        { "page.html", Encoding.UTF8.GetBytes("<html><head><title>Tides</title><script>var tracking='zebracode';</script><style>p{color:red}</style></head><body><h1>Tides</h1><p>Spring tides follow the new moon.</p></body></html>"), "spring tides moon", "Spring tides follow the new moon." },
        { "prices.csv", Encoding.UTF8.GetBytes("product,price,unit\nespresso,2.50,cup\nbaguette,1.20,piece\n"), "baguette", "product: baguette" },
        { "catalog.json", Encoding.UTF8.GetBytes("""[{"name":"falcon","habitat":{"region":"cliffs"}},{"name":"otter","habitat":{"region":"rivers"}}]"""), "otter rivers", "habitat.region: rivers" },
        { "report.docx", DatasetApi.Docx("Quarterly report", "Glacier melt accelerated during the summer."), "glacier melt", "Glacier melt accelerated during the summer." },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Upload_EachFileType_IsParsedIndexedAndSearchable(string fileName, byte[] content, string query, string expectedText)
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);

        var upload = await _client.UploadFilesAsync(user.AccessToken, id, [new UploadFile(fileName, content)]);

        Assert.True(upload.Status == HttpStatusCode.Accepted, upload.Body?.ToJsonString());
        Assert.Equal("waiting", upload.Data["documents"]![0]!["status"]!.GetValue<string>());
        var documents = await _client.WaitForIngestionAsync(user, id);
        var document = Assert.Single(documents);
        Assert.True(document["status"]!.GetValue<string>() == "completed", document.ToJsonString());
        Assert.Equal(fileName, document["id"]!.GetValue<string>());
        Assert.Equal(content.Length, document["sizeBytes"]!.GetValue<long>());
        foreach (var mode in new[] { "fulltext", "vector", "hybrid" })
        {
            var hits = (await _client.SearchAsync(user, id, new { query, mode }))["chunks"]!.AsArray();
            Assert.NotEmpty(hits);
            Assert.Contains(expectedText, hits[0]!["content"]!.GetValue<string>());
            Assert.Equal(fileName, hits[0]!["documentId"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Upload_Html_DropsScriptsAndStyles()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        await _client.UploadFilesAsync(user.AccessToken, id, [UploadFile.Text("p.html", "<p>Visible words</p><script>var hidden='zebracode';</script><style>.x{}</style>")]);
        await _client.WaitForIngestionAsync(user, id);

        Assert.Empty((await _client.SearchAsync(user, id, new { query = "zebracode", mode = "fulltext" }))["chunks"]!.AsArray());
        Assert.Single((await _client.SearchAsync(user, id, new { query = "visible", mode = "fulltext" }))["chunks"]!.AsArray());
    }

    [Fact]
    public async Task Upload_UnsupportedExtension_Is415ListingTheSupportedOnes_AndStoresNothing()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);

        var response = await _client.UploadFilesAsync(user.AccessToken, id, [UploadFile.Text("ok.txt", "fine"), UploadFile.Text("tool.exe", "MZ")]);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.Status);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", response.ErrorCode);
        var message = response.Body!["error"]!["message"]!.GetValue<string>();
        foreach (var extension in new[] { ".txt", ".md", ".html", ".csv", ".json", ".docx" })
        {
            Assert.Contains(extension, message);
        }

        Assert.Empty((await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents", user.AccessToken)).Data.AsArray());
        var blobs = Path.Combine(fixture.Factory.DataDirectory, "blobs", "datasets");
        Assert.True(!Directory.Exists(blobs) || !Directory.GetFiles(blobs, "*", SearchOption.AllDirectories).Any(f => f.Contains(id, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Upload_OtherContentType_Is415_AndBadJson_Is4xx()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/datasets/{id}/upload") { Content = new StringContent("hello", Encoding.UTF8, "text/plain") };
        request.Headers.Authorization = new("Bearer", user.AccessToken);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await _client.SendAsync(request)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.ApiPostAsync($"/api/v1/datasets/{id}/upload", "{not json", user.AccessToken)).Status);
        var invalid = await _client.ApiPostAsync($"/api/v1/datasets/{id}/upload", new { documents = new object[] { new { id = "a/b", content = "" } } }, user.AccessToken);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.Status);
        var fields = invalid.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()).ToList();
        Assert.Contains("documents[0].id", fields);
        Assert.Contains("documents[0].content", fields);
    }

    [Fact]
    public async Task Upload_MetadataOfTheWrongDeclaredType_Is422()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "typed", metadataFields = new[] { new { name = "year", type = "number" } } });

        var json = await _client.UploadJsonAsync(user, id, new { id = "a", content = "x", metadata = new { year = "2020" } });
        var multipart = await _client.UploadFilesAsync(user.AccessToken, id, [UploadFile.Text("a.txt", "x")], [("metadata", """{"year":"soon"}""")]);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, json.Status);
        Assert.Equal("documents[0].metadata.year", json.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, multipart.Status);
    }

    [Fact]
    public async Task Ingestion_MovesThroughTheStatuses_WithProgressPerEmbeddingBatch()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "progress", embeddingModel = DatasetsFixture.EmbeddingModel, chunking = new { size = 60, overlap = 0 } });
        var gates = Enumerable.Range(0, 3).Select(_ => new SemaphoreSlim(0)).ToList();
        foreach (var gate in gates)
        {
            fixture.Model.Enqueue(async (context, _) =>
            {
                await gate.WaitAsync(TimeSpan.FromSeconds(20));
                return false;
            });
        }

        // Six sentences of ~50 characters: six chunks, embedded in three batches of two.
        var text = string.Join(" ", Enumerable.Range(1, 6).Select(i => $"Sentence number {i} talks about topic {i} at length."));
        await _client.UploadJsonAsync(user, id, new { id = "long", content = text });

        var seen = new List<(string Status, int Done, int Total)>();
        async Task<JsonNode> ObserveAsync(Func<JsonNode, bool> until)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (true)
            {
                var document = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents/long", user.AccessToken)).Data;
                var state = (document["status"]!.GetValue<string>(), document["progress"]!["chunksDone"]!.GetValue<int>(), document["progress"]!["chunksTotal"]!.GetValue<int>());
                if (seen.Count == 0 || seen[^1] != state)
                {
                    seen.Add(state);
                }

                if (until(document))
                {
                    return document;
                }

                Assert.True(DateTime.UtcNow < deadline, "States seen: " + string.Join(" → ", seen));
                await Task.Delay(20);
            }
        }

        await ObserveAsync(d => d["status"]!.GetValue<string>() == "embedding");
        for (var batch = 0; batch < 3; batch++)
        {
            var done = (batch + 1) * 2;
            gates[batch].Release();
            await ObserveAsync(d => d["progress"]!["chunksDone"]!.GetValue<int>() >= done || d["status"]!.GetValue<string>() == "completed");
        }

        var final = await ObserveAsync(d => d["status"]!.GetValue<string>() == "completed");
        Assert.Equal(6, final["progress"]!["chunksTotal"]!.GetValue<int>());
        Assert.Equal(100, final["progress"]!["percent"]!.GetValue<double>());
        Assert.Contains(("embedding", 0, 6), seen);
        Assert.Contains(("embedding", 2, 6), seen);
        Assert.Contains(("embedding", 4, 6), seen);
        Assert.Equal(("completed", 6, 6), seen[^1]);
        var order = seen.Select(s => s.Status).Distinct().ToList();
        Assert.Equal(order.OrderBy(s => Array.IndexOf(["waiting", "parsing", "splitting", "embedding", "indexing", "completed"], s)), order);

        var embeddings = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/embeddings", user.AccessToken)).Data;
        Assert.Equal(6, embeddings["indexedChunks"]!.GetValue<long>());
        Assert.Equal(6, embeddings["indexedVectors"]!.GetValue<long>());
        Assert.Equal(1, embeddings["byStatus"]!["completed"]!.GetValue<int>());
        Assert.True(embeddings["completed"]!.GetValue<bool>());
        // Every embedding call carried its whole batch.
        var batches = fixture.Model.Received.Where(r => r.Path == "/v1/embeddings").TakeLast(3).Select(r => r.Body!["input"]!.AsArray().Count);
        Assert.Equal([2, 2, 2], batches);
    }

    [Fact]
    public async Task Chunking_GeneralSizeAndOverlap_AreRespected()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "sized", embeddingModel = DatasetsFixture.EmbeddingModel, chunking = new { mode = "general", size = 120, overlap = 40 } });
        var words = string.Join(" ", Enumerable.Range(1, 200).Select(i => $"w{i}"));
        await _client.UploadJsonAsync(user, id, new { id = "words", content = words });
        await _client.WaitForIngestionAsync(user, id);

        // A vector search ranks every chunk, so topK 100 reads them all back.
        var chunks = (await _client.SearchAsync(user, id, new { query = "w1", mode = "vector", topK = 100 }))["chunks"]!
            .AsArray().OrderBy(c => int.Parse(c!["chunkId"]!.GetValue<string>().Split('#')[1], System.Globalization.CultureInfo.InvariantCulture))
            .Select(c => c!["content"]!.GetValue<string>()).ToList();
        var total = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents/words", user.AccessToken)).Data["progress"]!["chunksTotal"]!.GetValue<int>();

        Assert.Equal(total, chunks.Count);
        Assert.All(chunks, c => Assert.True(c.Length <= 120, c));
        // ~890 characters: 8 chunks would do without overlap; sharing up to 40 characters needs more.
        Assert.InRange(total, 10, 13);
        Assert.StartsWith("w1 ", chunks[0]);
        Assert.EndsWith("w200", chunks[^1]);
        for (var i = 1; i < chunks.Count; i++)
        {
            // Each chunk starts inside the previous one: cut at a space, overlapping by at most 40 characters.
            var firstWord = chunks[i].Split(' ')[0];
            var previousWords = chunks[i - 1].Split(' ');
            Assert.Contains(firstWord, previousWords);
            var shared = string.Join(" ", previousWords.SkipWhile(w => w != firstWord));
            Assert.InRange(shared.Length, 1, 40);
            Assert.StartsWith(shared, chunks[i]);
        }
    }

    [Fact]
    public async Task Chunking_QaPairs_MakesOneChunkPerPair_FromTextAndCsv()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "faq", chunking = new { mode = "qa_pairs", size = 500, overlap = 0 } });
        await _client.UploadFilesAsync(user.AccessToken, id,
        [
            UploadFile.Text("faq.txt", "Q: How do I reset my password?\nA: Use the forgot-password link.\n\nQ: Can I change my email?\nA: Yes, in the profile settings."),
            UploadFile.Text("faq.csv", "question,answer\nWhere is the invoice?,Under billing.\nHow do refunds work?,Within 14 days.\n"),
            UploadFile.Text("none.txt", "No pairs in here at all."),
        ]);
        var documents = await _client.WaitForIngestionAsync(user, id, expected: 3);

        Assert.Equal(2, documents.Single(d => d["id"]!.GetValue<string>() == "faq.txt")["progress"]!["chunksTotal"]!.GetValue<int>());
        Assert.Equal(2, documents.Single(d => d["id"]!.GetValue<string>() == "faq.csv")["progress"]!["chunksTotal"]!.GetValue<int>());
        var none = documents.Single(d => d["id"]!.GetValue<string>() == "none.txt");
        Assert.Equal("error", none["status"]!.GetValue<string>());
        Assert.Contains("question/answer", none["error"]!.GetValue<string>());
        var hit = (await _client.SearchAsync(user, id, new { query = "refunds", mode = "fulltext" }))["chunks"]![0]!["content"]!.GetValue<string>();
        Assert.Equal("Q: How do refunds work?\nA: Within 14 days.", hit);
    }

    [Fact]
    public async Task Reupload_SameDocumentId_ReplacesContentAndChunks()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        await _client.UploadJsonAsync(user, id, new { id = "policy", content = "Vacation days: twenty per year.", metadata = new { rev = 1 } });
        await _client.WaitForIngestionAsync(user, id);

        var again = await _client.UploadJsonAsync(user, id, new { id = "policy", content = "Remote work: allowed on Fridays.", metadata = new { rev = 2 } });
        Assert.Equal(2, again.Data["documents"]![0]!["version"]!.GetValue<int>());
        var documents = await _client.WaitForIngestionAsync(user, id);

        Assert.Single(documents);
        Assert.Empty((await _client.SearchAsync(user, id, new { query = "vacation", mode = "fulltext" }))["chunks"]!.AsArray());
        var hit = (await _client.SearchAsync(user, id, new { query = "remote work", mode = "fulltext" }))["chunks"]![0]!;
        Assert.Equal(2, hit["metadata"]!["rev"]!.GetValue<int>());
        Assert.Equal(1, (await _client.ApiGetAsync($"/api/v1/datasets/{id}/embeddings", user.AccessToken)).Data["indexedChunks"]!.GetValue<long>());
        // The first version's file went with it.
        var blobs = Directory.GetFiles(Path.Combine(fixture.Factory.DataDirectory, "blobs", "datasets"), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(id, StringComparison.Ordinal) && !f.EndsWith(".meta", StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal)).ToList();
        Assert.Single(blobs);
    }

    [Fact]
    public async Task DeleteDocument_RemovesChunksVectorsAndFiles()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        await _client.UploadFilesAsync(user.AccessToken, id, [UploadFile.Text("keep.txt", "Apples grow on trees."), UploadFile.Text("drop.txt", "Bananas grow in bunches.")]);
        await _client.WaitForIngestionAsync(user, id, expected: 2);
        var blobRoot = Path.Combine(fixture.Factory.DataDirectory, "blobs", "datasets");

        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}/documents/drop.txt", user.AccessToken)).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents/drop.txt", user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}/documents/drop.txt", user.AccessToken)).Status);
        foreach (var mode in new[] { "fulltext", "vector", "hybrid" })
        {
            Assert.Equal(["keep.txt"], DatasetApi.DocumentIds(await _client.SearchAsync(user, id, new { query = "bananas bunches apples", mode })).Distinct());
        }

        var embeddings = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/embeddings", user.AccessToken)).Data;
        Assert.Equal(1, embeddings["indexedChunks"]!.GetValue<long>());
        Assert.Equal(1, embeddings["indexedVectors"]!.GetValue<long>());
        Assert.DoesNotContain(Directory.GetFiles(blobRoot, "*", SearchOption.AllDirectories), f => f.Contains("drop.txt", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}", user.AccessToken)).Status);
        Assert.DoesNotContain(Directory.GetFiles(blobRoot, "*", SearchOption.AllDirectories), f => f.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingestion_UnparseableFile_AndRefusedEmbedding_EndInErrorWithAReason()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        await _client.UploadFilesAsync(user.AccessToken, id, [UploadFile.Text("broken.json", "{\"a\": [1, 2"), new UploadFile("fake.docx", Encoding.UTF8.GetBytes("not a zip"))]);
        var broken = await _client.WaitForIngestionAsync(user, id, expected: 2);
        Assert.All(broken, d => Assert.Equal("error", d["status"]!.GetValue<string>()));
        Assert.Contains(broken, d => d["error"]!.GetValue<string>().Contains(".json file could not be parsed", StringComparison.Ordinal));

        var second = await _client.CreateDatasetAsync(user);
        fixture.Model.EnqueueStatus(400);
        await _client.UploadJsonAsync(user, second, new { id = "doc", content = "Some words to embed." });
        var refused = Assert.Single(await _client.WaitForIngestionAsync(user, second));
        Assert.Equal("error", refused["status"]!.GetValue<string>());
        Assert.Contains("Embedding with 'embed-test' failed", refused["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_WithADocumentDeletedMidIngestion_CompletesWithTheRest_AndTheDeletedOneLeavesNoChunks()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        var gates = new[] { new SemaphoreSlim(0), new SemaphoreSlim(0) };
        foreach (var gate in gates)
        {
            fixture.Model.Enqueue(async (context, _) =>
            {
                await gate.WaitAsync(TimeSpan.FromSeconds(20));
                return false;
            });
        }

        await _client.UploadJsonAsync(user, id, new { id = "stays", content = "Granite is an igneous rock." }, new { id = "goes", content = "Basalt is a volcanic rock." });
        for (var i = 0; i < 400; i++)
        {
            var statuses = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/documents", user.AccessToken)).Data.AsArray().Select(d => d!["status"]!.GetValue<string>()).ToList();
            if (statuses.Count == 2 && statuses.All(s => s == "embedding"))
            {
                break;
            }

            await Task.Delay(25);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/datasets/{id}/documents/goes", user.AccessToken)).Status);
        foreach (var gate in gates)
        {
            gate.Release();
        }

        var stays = Assert.Single(await _client.WaitForIngestionAsync(user, id));
        Assert.Equal("completed", stays["status"]!.GetValue<string>());
        JsonNode? completed = null;
        for (var i = 0; i < 200 && completed is null; i++)
        {
            completed = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/events", user.AccessToken)).Data.AsArray().SingleOrDefault();
            await Task.Delay(25);
        }

        Assert.NotNull(completed);
        Assert.Equal(["stays"], completed["payload"]!["documentIds"]!.AsArray().Select(d => d!.GetValue<string>()));
        // The deleted document's ingestion finished after the delete; its chunks must not linger.
        await Task.Delay(300);
        Assert.Equal(1, (await _client.ApiGetAsync($"/api/v1/datasets/{id}/embeddings", user.AccessToken)).Data["indexedChunks"]!.GetValue<long>());
        Assert.Equal(["stays"], DatasetApi.DocumentIds(await _client.SearchAsync(user, id, new { query = "basalt volcanic granite rock", mode = "fulltext" })));
    }

    [Fact]
    public async Task BatchFinished_RecordsDatasetCompletedOnce()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        var batch = (await _client.UploadJsonAsync(user, id, new { id = "one", content = "First." }, new { id = "two", content = "Second." })).Data["batchId"]!.GetValue<string>();
        await _client.WaitForIngestionAsync(user, id, expected: 2);

        JsonNode? completed = null;
        for (var i = 0; i < 100 && completed is null; i++)
        {
            completed = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/events", user.AccessToken)).Data.AsArray().SingleOrDefault();
            await Task.Delay(20);
        }

        Assert.NotNull(completed);
        Assert.Equal("dataset.completed", completed["type"]!.GetValue<string>());
        Assert.Equal(batch, completed["payload"]!["batchId"]!.GetValue<string>());
        Assert.Equal(2, completed["payload"]!["completed"]!.GetValue<int>());
        Assert.Equal(0, completed["payload"]!["failed"]!.GetValue<int>());

        await _client.UploadJsonAsync(user, id, new { id = "three", content = "Third." });
        await _client.WaitForIngestionAsync(user, id, expected: 3);
        await Task.Delay(200);
        var events = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/events", user.AccessToken)).Data.AsArray();
        Assert.Equal(2, events.Count);
        Assert.Equal(2, events.Select(e => e!["payload"]!["batchId"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task Events_AreTheDatasetsOwn_AndPage()
    {
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user);
        var other = await _client.CreateDatasetAsync(user, new { name = "other" });
        foreach (var (dataset, document) in new[] { (id, "a"), (id, "b"), (other, "c") })
        {
            await _client.UploadJsonAsync(user, dataset, new { id = document, content = "Text " + document });
        }

        await _client.WaitForIngestionAsync(user, id, expected: 2);
        await _client.WaitForIngestionAsync(user, other);
        var all = new JsonArray();
        for (var i = 0; i < 100 && all.Count < 2; i++)
        {
            all = (await _client.ApiGetAsync($"/api/v1/datasets/{id}/events", user.AccessToken)).Data.AsArray();
            await Task.Delay(20);
        }

        var first = await _client.ApiGetAsync($"/api/v1/datasets/{id}/events?limit=1", user.AccessToken);
        var next = await _client.ApiGetAsync(
            $"/api/v1/datasets/{id}/events?limit=1&cursor={Uri.EscapeDataString(first.Body!["pagination"]!["nextCursor"]!.GetValue<string>())}", user.AccessToken);

        Assert.Equal(2, all.Count);
        Assert.All(all, e => Assert.Equal(id, e!["payload"]!["datasetId"]!.GetValue<string>()));
        Assert.True(first.Body!["pagination"]!["hasMore"]!.GetValue<bool>());
        Assert.Equal(
            all.Select(e => e!["id"]!.GetValue<string>()),
            first.Data.AsArray().Concat(next.Data.AsArray()).Select(e => e!["id"]!.GetValue<string>()));
    }
}
