using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Serverless.Benchmarks;

/// <summary>
/// The workflow engine's targets, end to end over HTTP on the embedded store: a 10-node linear workflow through
/// /run (p50 ≤ 20 ms), start → set → end through /run at 32 concurrent clients (≥ 440 executions/s), and a
/// 1 → 100 → 1 fan-out/fan-in (≤ 1 s), both with instant branches and with queued (delay 0) branches.
/// </summary>
internal static class WorkflowSuite
{
    public static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>
    {
        ["Triggers__Enabled"] = "true",
        ["RateLimits__ExecutePerMinute"] = "10000000",
        ["Workflows__MaxRunningPerWorkspace"] = "100000",
        ["Workflows__MaxQueuedPerWorkspace"] = "1000000",
    };

    private sealed record Row(string Scenario, int Clients, int Runs, double RunsPerSecond, double P50, double P99, double Max, int Errors, string Target, bool Pass);

    public static async Task<string> RunAsync(Uri baseAddress, string accessToken, BenchmarkOptions options, Action<string> log, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);

        var linear = await CreateAsync(client, "linear-10", Linear(8), ct);
        var twoNode = await CreateAsync(client, "start-set-end", Linear(1), ct);
        var fanInstant = await CreateAsync(client, "fan-100-instant", FanOut(100, queued: false), ct);
        var fanQueued = await CreateAsync(client, "fan-100-queued", FanOut(100, queued: true), ct);

        var rows = new List<Row>();
        log("workflows: 10-node linear, sequential");
        await SequentialAsync(client, linear, 30, ct);
        var (linearLatencies, linearErrors) = await SequentialAsync(client, linear, 300, ct);
        rows.Add(Summarise("10-node linear via /run", 1, linearLatencies, linearErrors, null, "p50 ≤ 20 ms", r => r.P50 <= 20));

        log("workflows: start → set → end @ 32 clients");
        await ConcurrentAsync(client, twoNode, 32, options.Warmup, ct);
        var (twoNodeLatencies, twoNodeErrors, elapsed) = await ConcurrentAsync(client, twoNode, 32, options.Duration, ct);
        rows.Add(Summarise("start → set → end via /run", 32, twoNodeLatencies, twoNodeErrors, elapsed, "≥ 440 executions/s", r => r.RunsPerSecond >= 440 && r.Errors == 0));

        log("workflows: 1 → 100 → 1 fan-out/fan-in");
        await SequentialAsync(client, fanInstant, 3, ct);
        var (fanLatencies, fanErrors) = await SequentialAsync(client, fanInstant, 20, ct);
        rows.Add(Summarise("1 → 100 → 1, instant branches", 1, fanLatencies, fanErrors, null, "≤ 1 s", r => r.Max <= 1000));
        await SequentialAsync(client, fanQueued, 2, ct);
        var (queuedLatencies, queuedErrors) = await SequentialAsync(client, fanQueued, 10, ct);
        rows.Add(Summarise("1 → 100 → 1, queued branches (delay 0)", 1, queuedLatencies, queuedErrors, null, "≤ 1 s", r => r.Max <= 1000));

        return Render(rows);
    }

    internal static JsonObject Linear(int middle)
    {
        var nodes = new JsonArray { new JsonObject { ["id"] = "start", ["type"] = "start" } };
        var previous = "start";
        for (var i = 0; i < middle; i++)
        {
            var value = i == 0 ? "{{inputs.n}}" : $"{{{{s{i - 1}.v}}}}";
            nodes.Add(new JsonObject { ["id"] = $"s{i}", ["type"] = "set", ["config"] = new JsonObject { ["values"] = new JsonObject { ["v"] = value, ["step"] = i } } });
            previous = $"s{i}";
        }

        nodes.Add(new JsonObject { ["id"] = "end", ["type"] = "end", ["config"] = new JsonObject { ["outputs"] = new JsonObject { ["v"] = $"{{{{{previous}.v}}}}" } } });
        var ids = nodes.Select(n => n!["id"]!.GetValue<string>()).ToList();
        return new JsonObject
        {
            ["nodes"] = nodes,
            ["edges"] = new JsonArray([.. ids.Zip(ids.Skip(1), (a, b) => (JsonNode)new JsonObject { ["source"] = a, ["target"] = b })]),
        };
    }

    private static JsonObject FanOut(int width, bool queued)
    {
        var nodes = new JsonArray { new JsonObject { ["id"] = "start", ["type"] = "start" } };
        var edges = new JsonArray();
        for (var i = 0; i < width; i++)
        {
            nodes.Add(queued
                ? new JsonObject { ["id"] = $"b{i}", ["type"] = "delay", ["config"] = new JsonObject { ["seconds"] = 0 } }
                : new JsonObject { ["id"] = $"b{i}", ["type"] = "set", ["config"] = new JsonObject { ["values"] = new JsonObject { [$"k{i}"] = i } } });
            edges.Add(new JsonObject { ["source"] = "start", ["target"] = $"b{i}" });
            edges.Add(new JsonObject { ["source"] = $"b{i}", ["target"] = "join" });
        }

        nodes.Add(new JsonObject { ["id"] = "join", ["type"] = "merge" });
        nodes.Add(new JsonObject { ["id"] = "end", ["type"] = "end", ["config"] = new JsonObject { ["outputs"] = new JsonObject { ["branches"] = "{{join.branches}}" } } });
        edges.Add(new JsonObject { ["source"] = "join", ["target"] = "end" });
        return new JsonObject { ["nodes"] = nodes, ["edges"] = edges };
    }

    internal static async Task<string> CreateAsync(HttpClient client, string name, JsonObject definition, CancellationToken ct)
    {
        using var response = await client.PostAsync("/api/v1/workflows",
            new StringContent(new JsonObject { ["name"] = name, ["definition"] = definition }.ToJsonString(), Encoding.UTF8, "application/json"), ct);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
        return response.StatusCode == HttpStatusCode.Created
            ? body["data"]!["id"]!.GetValue<string>()
            : throw new InvalidOperationException($"creating {name} failed: {body.ToJsonString()}");
    }

    /// <summary>One /run; true when it answered 200 with a succeeded run.</summary>
    private static async Task<bool> RunOnceAsync(HttpClient client, string workflowId, CancellationToken ct)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/workflows/{workflowId}/run", new { inputs = new { n = 1 }, options = new { timeout = 30_000 } }, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return response.StatusCode == HttpStatusCode.OK && body.Contains("\"status\":\"succeeded\"", StringComparison.Ordinal);
    }

    private static async Task<(List<double> Latencies, int Errors)> SequentialAsync(HttpClient client, string workflowId, int runs, CancellationToken ct)
    {
        var latencies = new List<double>(runs);
        var errors = 0;
        for (var i = 0; i < runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            errors += await RunOnceAsync(client, workflowId, ct) ? 0 : 1;
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return (latencies, errors);
    }

    private static async Task<(List<double> Latencies, int Errors, TimeSpan Elapsed)> ConcurrentAsync(HttpClient client, string workflowId, int clients, TimeSpan duration, CancellationToken ct)
    {
        var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<double>();
            var errors = 0;
            while (Stopwatch.GetTimestamp() < stop)
            {
                var t = Stopwatch.GetTimestamp();
                errors += await RunOnceAsync(client, workflowId, ct) ? 0 : 1;
                latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }

            return (latencies, errors);
        }, ct)).ToList();
        var results = await Task.WhenAll(workers);
        return ([.. results.SelectMany(r => r.latencies)], results.Sum(r => r.errors), Stopwatch.GetElapsedTime(started));
    }

    private static Row Summarise(string scenario, int clients, List<double> latencies, int errors, TimeSpan? elapsed, string target, Func<Row, bool> pass)
    {
        var sorted = latencies.Order().ToList();
        double Percentile(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        var total = elapsed?.TotalSeconds ?? sorted.Sum() / 1000;
        var row = new Row(scenario, clients, sorted.Count, sorted.Count / total, Percentile(0.5), Percentile(0.99), sorted[^1], errors, target, false);
        return row with { Pass = pass(row) && errors == 0 };
    }

    private static string Render(List<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## Workflow engine ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        text.AppendLine();
        text.AppendLine("Published app, embedded SQLite store, standalone trigger host; every run through POST /api/v1/workflows/{id}/run and checked to have succeeded.");
        text.AppendLine();
        text.AppendLine("| scenario | clients | runs | runs/s | p50 ms | p99 ms | max ms | errors | target | result |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Clients} | {r.Runs} | {r.RunsPerSecond:F0} | {r.P50:F1} | {r.P99:F1} | {r.Max:F1} | {r.Errors} | {r.Target} | {(r.Pass ? "PASS" : "FAIL")} |");
        }

        return text.ToString();
    }
}
