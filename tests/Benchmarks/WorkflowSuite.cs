using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// The workflow runs' targets, end to end over HTTP, on both standalone Durable Task backends one after the other (the
/// embedded SQLite orchestration service, and the Azure Storage backend on Azurite); the targets hold for the embedded
/// backend: a 10-node linear workflow through
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

    /// <summary>The two standalone Durable Task backends the suite runs on, one after the other.</summary>
    private static readonly (string Name, bool Azurite)[] Backends =
    [
        ("Durable Task, embedded SQLite (`SqliteOrchestrationService`)", false),
        ("Durable Task, Azure Storage backend on Azurite", true),
    ];

    private sealed record Row(string Backend, string Scenario, int Clients, int Runs, double RunsPerSecond, double P50, double P99, double Max, int Errors, string Target, bool Pass);

    /// <summary>
    /// The whole suite on each standalone backend (or the one <c>--store</c> names): the published app on the embedded store (its Durable Task backend the
    /// SQLite orchestration service), then on Azure Storage on Azurite (the DTFx Azure Storage backend, same Azurite).
    /// </summary>
    public static async Task<string> RunBothBackendsAsync(string appDir, string workDir, BenchmarkOptions options, Action<string> log, CancellationToken ct)
    {
        var rows = new List<Row>();
        var azuriteStart = TimeSpan.Zero;
        foreach (var (backend, onAzurite) in Backends.Where(b => options.Store == BenchmarkOptions.BothStores
                     || (b.Azurite ? BenchmarkOptions.AzuriteStore : BenchmarkOptions.SqliteStore) == options.Store))
        {
            Azurite? azurite = null;
            ServerProcess? server = null;
            try
            {
                var settings = new Dictionary<string, string>(Environment);
                if (onAzurite)
                {
                    azurite = await Azurite.StartAsync(ct);
                    azuriteStart = azurite.StartTime;
                    log($"azurite listening after {azurite.StartTime.TotalMilliseconds:F0} ms");
                    settings["Storage__Provider"] = "AzureStorage";
                    settings["Storage__ConnectionString"] = azurite.ConnectionString;
                }

                log($"workflows on {backend}");
                server = ServerProcess.Start(appDir, Path.Combine(workDir, onAzurite ? "data-workflows-azurite" : "data-workflows-sqlite"), settings);
                await server.WaitUntilHealthyAsync(ct);
                var owner = await ApiSetup.CreateCredentialsAsync(server.BaseAddress, ct);
                rows.AddRange(await MeasureAsync(backend, server.BaseAddress, owner.AccessToken, options, log, ct));
            }
            finally
            {
                if (server is not null)
                {
                    await server.DisposeAsync();
                }

                if (azurite is not null)
                {
                    await azurite.DisposeAsync();
                }
            }
        }

        return Render(rows, options);
    }

    private static async Task<List<Row>> MeasureAsync(string backend, Uri baseAddress, string accessToken, BenchmarkOptions options, Action<string> log, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);

        var linear = await CreateAsync(client, "linear-10", Linear(8), ct);
        var twoNode = await CreateAsync(client, "start-set-end", Linear(1), ct);
        var fanInstant = await CreateAsync(client, "fan-100-instant", FanOut(100, queued: false), ct);
        var fanQueued = await CreateAsync(client, "fan-100-queued", FanOut(100, queued: true), ct);

        // A fresh task hub on Azure Storage runs nothing until its worker holds the partition leases: wait for a first run.
        var ready = Stopwatch.StartNew();
        string? last = null;
        while (!await RunOnceAsync(client, twoNode, ct, answer => last = answer))
        {
            if (ready.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new InvalidOperationException($"{backend}: no run succeeded within {ready.Elapsed}; the last answer: {last}");
            }
        }

        log($"  first run succeeded after {ready.Elapsed.TotalMilliseconds:F0} ms");

        var rows = new List<Row>();
        log("workflows: 10-node linear, sequential");
        await SequentialAsync(client, linear, 30, ct);
        var (linearLatencies, linearErrors) = await SequentialAsync(client, linear, 300, ct);
        rows.Add(Summarise(backend, "10-node linear via /run", 1, linearLatencies, linearErrors, null, "p50 ≤ 20 ms", r => r.P50 <= 20));
        log($"  p50 {rows[^1].P50:F1} ms");

        log("workflows: start → set → end @ 32 clients");
        await ConcurrentAsync(client, twoNode, 32, options.Warmup, ct);
        var (twoNodeLatencies, twoNodeErrors, elapsed) = await ConcurrentAsync(client, twoNode, 32, options.Duration, ct);
        rows.Add(Summarise(backend, "start → set → end via /run", 32, twoNodeLatencies, twoNodeErrors, elapsed, "≥ 440 executions/s", r => r.RunsPerSecond >= 440 && r.Errors == 0));
        log($"  {rows[^1].RunsPerSecond:F0} runs/s, p50 {rows[^1].P50:F1} ms, errors {rows[^1].Errors}");

        log("workflows: 1 → 100 → 1 fan-out/fan-in");
        await SequentialAsync(client, fanInstant, 3, ct);
        var (fanLatencies, fanErrors) = await SequentialAsync(client, fanInstant, 20, ct);
        rows.Add(Summarise(backend, "1 → 100 → 1, instant branches", 1, fanLatencies, fanErrors, null, "≤ 1 s", r => r.Max <= 1000));
        await SequentialAsync(client, fanQueued, 2, ct);
        var (queuedLatencies, queuedErrors) = await SequentialAsync(client, fanQueued, 10, ct);
        rows.Add(Summarise(backend, "1 → 100 → 1, queued branches (delay 0)", 1, queuedLatencies, queuedErrors, null, "≤ 1 s", r => r.Max <= 1000));
        return rows;
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
    private static async Task<bool> RunOnceAsync(HttpClient client, string workflowId, CancellationToken ct, Action<string>? answer = null)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/workflows/{workflowId}/run", new { inputs = new { n = 1 }, options = new { timeout = 30_000 } }, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        answer?.Invoke($"{(int)response.StatusCode} {(body.Length > 600 ? body[..600] : body)}");
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

    internal static async Task<(List<double> Latencies, int Errors, TimeSpan Elapsed)> ConcurrentAsync(HttpClient client, string workflowId, int clients, TimeSpan duration, CancellationToken ct)
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

    private static Row Summarise(string backend, string scenario, int clients, List<double> latencies, int errors, TimeSpan? elapsed, string target, Func<Row, bool> pass)
    {
        var sorted = latencies.Order().ToList();
        double Percentile(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        var total = elapsed?.TotalSeconds ?? sorted.Sum() / 1000;
        var row = new Row(backend, scenario, clients, sorted.Count, sorted.Count / total, Percentile(0.5), Percentile(0.99), sorted[^1], errors, target, false);
        return row with { Pass = pass(row) && errors == 0 };
    }

    private static string Render(List<Row> rows, BenchmarkOptions options)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
        var result = (Row r) => r.Pass ? "PASS" : "FAIL";
        var processors = global::System.Environment.ProcessorCount;
        Line($"## Workflow runs on Durable Task ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        text.AppendLine();
        Line($"Published app, standalone (trigger host on), {processors} logical processors; every run through POST /api/v1/workflows/{{id}}/run (`timeout` 30 s) and checked to have succeeded. Each backend gets a fresh app and data: embedded = `Storage:Provider` Sqlite (the app's store and `durable.db` in a temp directory); Azurite = `Storage:Provider` AzureStorage against Azurite 3.37.0 in memory on the same machine (`--skipApiVersionCheck`), task hub `workflows`, lease 15 s. 10-node: 30 warm-up then 300 sequential runs; 32 clients: {options.Warmup.TotalSeconds:F0} s warm-up then {options.Duration.TotalSeconds:F0} s closed loop.");
        text.AppendLine();
        Line($"| engine / backend | start → set → end @ 32 clients, executions/s | 10-node p50 ms | errors | target (embedded) | result |");
        text.AppendLine("|---|---|---|---|---|---|");
        Line($"| previous engine (own engine, embedded SQLite; 2026-11-22) | 643–733 | 2.8–3.9 | 0 | ≥ 440 /s, p50 ≤ 20 ms | PASS |");
        foreach (var backend in rows.Select(r => r.Backend).Distinct())
        {
            var linear = rows.Single(r => r.Backend == backend && r.Clients == 1 && r.Scenario.StartsWith("10-node", StringComparison.Ordinal));
            var concurrent = rows.Single(r => r.Backend == backend && r.Clients == 32);
            var embedded = backend == Backends[0].Name;
            Line($"| {backend} | {concurrent.RunsPerSecond:F0} | {linear.P50:F1} | {concurrent.Errors + linear.Errors} | {(embedded ? "≥ 440 /s, p50 ≤ 20 ms" : "none (reported)")} | {(embedded ? (concurrent.Pass && linear.Pass ? "PASS" : "FAIL") : "reported")} |");
        }

        text.AppendLine();
        Line($"All scenarios:");
        text.AppendLine();
        text.AppendLine("| backend | scenario | clients | runs | runs/s | p50 ms | p99 ms | max ms | errors | target | result |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            Line($"| {(r.Backend == Backends[0].Name ? "SQLite" : "Azurite")} | {r.Scenario} | {r.Clients} | {r.Runs} | {r.RunsPerSecond:F0} | {r.P50:F1} | {r.P99:F1} | {r.Max:F1} | {r.Errors} | {r.Target} | {result(r)} |");
        }

        return text.ToString();
    }
}
