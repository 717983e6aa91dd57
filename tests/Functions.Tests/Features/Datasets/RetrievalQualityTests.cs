using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using Xunit.Abstractions;

namespace Serverless.Functions.Tests.Features.Datasets;

/// <summary>
/// Retrieval quality on the corpus the tests ship (Corpus/retrieval-corpus.json: 24 short documents, 20 questions
/// each answered by one of them), through the search API in every mode, with the fake's bag-of-words embeddings.
/// Prints the top-1 and top-5 hit rates; the floors guard against regressions, not against a real model's quality.
/// </summary>
public sealed class RetrievalQualityTests(DatasetsFixture fixture, ITestOutputHelper output) : IClassFixture<DatasetsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Corpus_EveryMode_FindsTheAnsweringDocument()
    {
        var corpus = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "tests", "Functions.Tests", "Features", "Datasets", "Corpus", "retrieval-corpus.json")))!;
        var user = await _client.RegisterAsync();
        var id = await _client.CreateDatasetAsync(user, new { name = "corpus", embeddingModel = DatasetsFixture.EmbeddingModel });
        var documents = corpus["documents"]!.AsArray().Select(d => (object)new
        {
            id = d!["id"]!.GetValue<string>(),
            title = d["title"]!.GetValue<string>(),
            content = d["content"]!.GetValue<string>(),
        }).ToArray();
        await _client.UploadJsonAsync(user, id, documents);
        await _client.WaitForIngestionAsync(user, id, expected: documents.Length);
        var questions = corpus["questions"]!.AsArray().Select(q => (Question: q!["question"]!.GetValue<string>(), Answer: q["answer"]!.GetValue<string>())).ToList();

        var rates = new Dictionary<string, (double Top1, double Top5)>();
        foreach (var mode in new[] { "fulltext", "vector", "hybrid" })
        {
            var top1 = 0;
            var top5 = 0;
            foreach (var (question, answer) in questions)
            {
                var ids = DatasetApi.DocumentIds(await _client.SearchAsync(user, id, new { query = question, mode, topK = 5 }));
                top1 += ids.FirstOrDefault() == answer ? 1 : 0;
                top5 += ids.Contains(answer) ? 1 : 0;
            }

            rates[mode] = ((double)top1 / questions.Count, (double)top5 / questions.Count);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mode,-8} top-1 {top1}/{questions.Count} = {rates[mode].Top1:P0}   top-5 {top5}/{questions.Count} = {rates[mode].Top5:P0}"));
        }

        Assert.True(rates["fulltext"].Top5 >= 0.8, $"fulltext top-5 {rates["fulltext"].Top5:P0}");
        Assert.True(rates["vector"].Top5 >= 0.8, $"vector top-5 {rates["vector"].Top5:P0}");
        Assert.True(rates["hybrid"].Top5 >= 0.8, $"hybrid top-5 {rates["hybrid"].Top5:P0}");
        Assert.True(rates["hybrid"].Top1 >= 0.6, $"hybrid top-1 {rates["hybrid"].Top1:P0}");
    }
}
