using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace Serverless.Benchmarks;

/// <summary>
/// Dataset ingestion throughput on the embedded default (published app, SQLite store and queue, local search index,
/// the standalone trigger host draining <c>dataset-ingest</c>): N documents uploaded as JSON, timed from the first
/// upload request until every document is completed, in chunks per second. Two datasets back to back: fulltext only
/// (parse → split → index) as the baseline, and one with an embedding model served by a zero-latency fake, so the
/// ratio shows what the embedding step (gateway calls, usage rows, vectors in the index) costs on its own.
/// </summary>
internal static class IngestSuite
{
    private const int DocumentsPerRequest = 50;
    private const int WarmUpDocuments = 40;
    private const int ChunkSize = 500;
    private const double MinChunksPerSecond = 200;

    private static readonly string[] Vocabulary =
    [
        "invoice", "refund", "policy", "storage", "workflow", "model", "gateway", "billing", "customer", "support", "latency", "queue", "retry",
        "document", "dataset", "search", "vector", "index", "tenant", "region", "backup", "schedule", "export", "import", "report", "audit",
        "quota", "token", "session", "webhook", "event", "deploy", "function", "trigger", "timer", "blob", "table", "partition", "replica",
        "throughput", "embedding", "chunk", "overlap", "filter", "metadata", "namespace", "answer", "citation", "context", "prompt",
    ];

    private sealed record Outcome(string Name, int Documents, long Chunks, long Vectors, double UploadSeconds, double TotalSeconds)
    {
        public double ChunksPerSecond => Chunks / TotalSeconds;
        public double DocumentsPerSecond => Documents / TotalSeconds;
    }

    public static Task<int> RunAsync(BenchmarkOptions options, CancellationToken ct) =>
        SuiteRun.WithAppAsync("ingest", options, upstream => new Dictionary<string, string>
        {
            ["Triggers__Enabled"] = "true",
            ["Models__Providers__0__Name"] = "bench",
            ["Models__Providers__0__Kind"] = "openai-compatible",
            ["Models__Providers__0__BaseUrl"] = upstream.BaseUrl + "v1",
            ["Models__Providers__0__ApiKey"] = "sk-bench",
            ["Models__Providers__0__Models__0__Id"] = "bench-embed",
            ["Models__Providers__0__Models__0__Embedding"] = "true",
        }, async (_, server) =>
        {
            var credentials = await ApiSetup.CreateCredentialsAsync(server.BaseAddress, ct);
            using var handler = new SocketsHttpHandler { UseProxy = false };
            using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials.AccessToken);

            Log($"warming up with {WarmUpDocuments} documents per scenario");
            await IngestAsync(client, "warm-up fulltext", null, WarmUpDocuments, seed: 1, ct);
            await IngestAsync(client, "warm-up embedding", "bench-embed", WarmUpDocuments, seed: 2, ct);

            var documents = options.Iterations;
            var results = new List<Outcome>
            {
                await IngestAsync(client, "fulltext only (parse, split, index)", null, documents, seed: 3, ct),
                await IngestAsync(client, "with embeddings (zero-latency embedder, batches of 64)", "bench-embed", documents, seed: 4, ct),
            };

            await RunFiles.WriteReportAsync(Render(options, results, server.ReadRssMegabytes()), options, ct);
            return results.All(r => r.ChunksPerSecond >= MinChunksPerSecond) ? 0 : 1;
        }, ct);

    private static async Task<Outcome> IngestAsync(HttpClient client, string name, string? embeddingModel, int count, int seed, CancellationToken ct)
    {
        var created = await ApiSetup.SendAsync(client, HttpMethod.Post, "/api/v1/datasets", new
        {
            name,
            embeddingModel,
            chunking = new { mode = "general", size = ChunkSize, overlap = 50 },
        }, HttpStatusCode.Created, ct);
        var datasetId = created["data"]!["id"]!.GetValue<string>();
        var random = new Random(seed);
        var bodies = Enumerable.Range(0, count).Select(i => new
        {
            id = $"doc-{i:D6}",
            title = $"Document {i}",
            content = Text(random, 2_000 + random.Next(1_000)),
            metadata = new { topic = Vocabulary[i % Vocabulary.Length], year = 2015 + (i % 10) },
        }).ToList();

        Log($"{name}: uploading {count} documents");
        var clock = Stopwatch.StartNew();
        foreach (var batch in bodies.Chunk(DocumentsPerRequest))
        {
            await ApiSetup.SendAsync(client, HttpMethod.Post, $"/api/v1/datasets/{datasetId}/upload", new { documents = batch }, HttpStatusCode.Accepted, ct);
        }

        var uploaded = clock.Elapsed.TotalSeconds;
        JsonNode summary;
        while (true)
        {
            summary = (await ApiSetup.SendAsync(client, HttpMethod.Get, $"/api/v1/datasets/{datasetId}/embeddings", null, HttpStatusCode.OK, ct))["data"]!;
            if (summary["documents"]!.GetValue<int>() == count && summary["completed"]!.GetValue<bool>())
            {
                break;
            }

            await Task.Delay(100, ct);
        }

        var total = clock.Elapsed.TotalSeconds;
        var errors = summary["byStatus"]!["error"]!.GetValue<int>();
        if (errors > 0)
        {
            throw new InvalidOperationException($"{name}: {errors} documents failed to ingest: {summary.ToJsonString()}");
        }

        var outcome = new Outcome(name, count, summary["indexedChunks"]!.GetValue<long>(), summary["indexedVectors"]!.GetValue<long>(), uploaded, total);
        Log($"  {outcome.Chunks} chunks ({outcome.Vectors} vectors) in {total:F2} s: {outcome.ChunksPerSecond:F0} chunks/s, {outcome.DocumentsPerSecond:F1} documents/s");
        return outcome;
    }

    /// <summary>Sentences of vocabulary words, so the splitter cuts at ". " like it would in prose.</summary>
    private static string Text(Random random, int length)
    {
        var text = new StringBuilder(length + 100);
        while (text.Length < length)
        {
            var words = 6 + random.Next(10);
            for (var w = 0; w < words; w++)
            {
                text.Append(w == 0 ? "" : " ").Append(Vocabulary[random.Next(Vocabulary.Length)]);
            }

            text.Append(random.Next(6) == 0 ? ".\n\n" : ". ");
        }

        return text.ToString();
    }

    private static string Render(BenchmarkOptions options, IReadOnlyList<Outcome> results, double rssMb)
    {
        var culture = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void Line(FormattableString text) => sb.Append(text.ToString(culture)).Append('\n');

        Line($"## Ingestion benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}. Load average when the run ended: {SuiteRun.LoadAverage()} (shared machine).");
        Line($"Published app on the embedded default (SQLite store and queue, local search index), the standalone trigger host ingesting from `dataset-ingest`. Per scenario: a warm-up dataset of {WarmUpDocuments} documents, then {options.Iterations} documents of 2,000–3,000 characters (prose of vocabulary words, scalar metadata) uploaded as JSON, {DocumentsPerRequest} per request; chunking general, {ChunkSize} characters, 50 overlap. Timed from the first upload request until `GET …/embeddings` reports every document completed (polled every 100 ms).");
        Line($"");
        Line($"| scenario | documents | chunks | vectors | upload requests s | total s | chunks/s | documents/s |");
        Line($"|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Line($"| {r.Name} | {r.Documents:N0} | {r.Chunks:N0} | {r.Vectors:N0} | {r.UploadSeconds:F2} | {r.TotalSeconds:F2} | {r.ChunksPerSecond:N0} | {r.DocumentsPerSecond:N1} |");
        }

        Line($"");
        var ratio = results[1].ChunksPerSecond / results[0].ChunksPerSecond;
        Line($"| target | measured | result |");
        Line($"|---|---|---|");
        foreach (var r in results)
        {
            Line($"| {r.Name}: ≥ {MinChunksPerSecond:N0} chunks/s | {r.ChunksPerSecond:N0} chunks/s | {(r.ChunksPerSecond >= MinChunksPerSecond ? "PASS" : "FAIL")} |");
        }

        Line($"| with embeddings ÷ fulltext only (the embedding step's cost) | {ratio:F2} | info |");
        Line($"");
        Line($"App RSS after the run: {rssMb:F1} MB.");
        return sb.ToString();
    }

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
}
