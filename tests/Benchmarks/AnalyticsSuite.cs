using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Benchmarks;

/// <summary>
/// <c>--suite analytics</c>: the latency of the dashboard, metrics and other analytics reads of one workspace as its
/// history grows from nothing to 10,000 runs and 100,000 model calls, then to 100,000 runs and 1,000,000 model calls
/// (<c>--max-items</c> sets the largest run count; model calls are ten times the runs), spread over the 90 days before
/// now, on the embedded SQLite store. The app is stopped while history is added: the suite writes it through the app's
/// own classes (the usage ledger, which stores every call's row with its index rows, and the roll-up recorder, which
/// the run-completion listener and the model gateway feed), then starts the app on the same data and reads over HTTP:
/// in rounds, each of which starts the app on every size's data in turn, so that a load spike on the machine does not
/// fall on one size only.
/// Run documents are not written: no analytics read touches them (the executions list has the lists suite).
/// Target: the p50 of every read at the largest size no more than 1.5 times its p50 at the middle size.
/// </summary>
internal static class AnalyticsSuite
{
    private const int Warmup = 3;
    private const int Requests = 30;
    private const int Rounds = 3;
    private const double MaxGrowth = 1.5;
    private const int UsagePerRun = 10;
    private const int Workflows = 20;
    private const int Apps = 4;
    private const int Users = 10;
    private const int Keys = 5;
    private static readonly TimeSpan History = TimeSpan.FromDays(90);
    // A day short of what the 90-day reads cover, so every run falls inside them whenever they are measured.
    private static readonly TimeSpan Seeded = TimeSpan.FromDays(89);
    private static readonly (string Model, string Provider)[] Models =
        [("gpt-4o", "openai"), ("gpt-4o-mini", "openai"), ("llama3.2:latest", "ollama"), ("mistral", "ollama"), ("gpt-4.1", "azure"), ("o3-mini", "azure")];
    private static readonly string[] NodeTypes = ["start", "llm", "http_request", "condition", "template", "end"];

    private sealed record Read(string Name, Func<DateTimeOffset, string> Path);

    private static readonly Read[] Reads =
    [
        new("dashboard (30 days)", _ => "/api/v1/analytics/dashboard"),
        new("dashboard (90 days)", now => $"/api/v1/analytics/dashboard?from={Stamp(now - History)}"),
        new("metrics latency_p95, 1d × 90", now => $"/api/v1/analytics/metrics?type=latency_p95&interval=1d&from={Stamp(now - History)}"),
        new("metrics execution_count, 1h × 168", now => $"/api/v1/analytics/metrics?type=execution_count&interval=1h&from={Stamp(now - TimeSpan.FromDays(7))}"),
        new("metrics error_rate of one workflow, 1h × 168", now => $"/api/v1/analytics/metrics?type=error_rate&interval=1h&workflowId=wf_07&from={Stamp(now - TimeSpan.FromDays(7))}"),
        new("usage groupBy=model (90 days)", now => $"/api/v1/analytics/usage?groupBy=model&from={Stamp(now - History)}"),
        new("costs (90 days)", now => $"/api/v1/analytics/costs?from={Stamp(now - History)}"),
        new("performance (90 days)", now => $"/api/v1/analytics/performance?from={Stamp(now - History)}"),
    ];

    private sealed record Cell(int Runs, int Usage, string Read, double P50, double P99)
    {
        public static Cell Of(int runs, string read, List<double> times)
        {
            var sorted = times.Order().ToList();
            return new Cell(runs, runs * UsagePerRun, read, sorted[sorted.Count / 2], sorted[(int)Math.Ceiling(sorted.Count * 0.99) - 1]);
        }
    }

    private sealed record Growth(int Runs, int Usage, TimeSpan Seed, int RollupRows);

    public static async Task<int> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        var workDir = Directory.CreateTempSubdirectory("serverless-analytics-bench-");
        var dataDir = Path.Combine(workDir.FullName, "data");
        ServerProcess? server = null;
        try
        {
            var appDir = options.AppDir ?? await Publisher.PublishAsync(Path.Combine(workDir.FullName, "app"), ct);
            var largest = options.MaxItems;
            int[] sizes = [0, largest / 10, largest];

            server = ServerProcess.Start(appDir, dataDir);
            await server.WaitUntilHealthyAsync(ct);
            var (workspaceId, key) = await SignUpAsync(server.BaseAddress, ct);
            await server.DisposeAsync();
            server = null;

            var growth = new List<Growth>();
            var dataDirs = new Dictionary<int, string>();
            var seeded = 0;
            foreach (var runs in sizes)
            {
                var watch = Stopwatch.StartNew();
                var rows = await SeedAsync(dataDir, workspaceId, seeded, runs, ct);
                seeded = runs;
                growth.Add(new Growth(runs, runs * UsagePerRun, watch.Elapsed, rows));
                Log($"{runs:N0} runs, {runs * UsagePerRun:N0} model calls: seeded in {watch.Elapsed.TotalSeconds:F0} s, {rows:N0} roll-up rows in the workspace");
                dataDirs[runs] = runs == largest ? dataDir : CopyDirectory(dataDir, Path.Combine(workDir.FullName, $"data-{runs}"));
            }

            // Every size is measured in every round, in a rotating order, so a busy spell on the (shared) machine weighs on
            // all sizes alike rather than on whichever was measured during it.
            var times = new Dictionary<(int Runs, string Read), List<double>>();
            for (var round = 0; round < Rounds; round++)
            {
                foreach (var runs in sizes.Skip(round % sizes.Length).Concat(sizes.Take(round % sizes.Length)))
                {
                    server = ServerProcess.Start(appDir, dataDirs[runs]);
                    await server.WaitUntilHealthyAsync(ct);
                    await MeasureAsync(server.BaseAddress, key, runs, times, ct);
                    await server.DisposeAsync();
                    server = null;
                }
            }

            var cells = times.Select(t => Cell.Of(t.Key.Runs, t.Key.Read, t.Value)).ToList();
            var (report, pass) = Render(sizes, cells, growth);
            await RunFiles.WriteReportAsync(report, options, ct);
            return pass ? 0 : 1;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Log("cancelled");
            return 130;
        }
        finally
        {
            await RunFiles.CleanUpAsync(server, workDir);
        }
    }

    private static async Task<(string WorkspaceId, string Key)> SignUpAsync(Uri baseAddress, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var login = new { email = "analytics-bench@example.com", password = "Bench12345" };
        await ApiSetup.SendAsync(client, HttpMethod.Post, "/api/v1/auth/register", login, HttpStatusCode.Created, ct);
        var session = await ApiSetup.SendAsync(client, HttpMethod.Post, "/api/v1/auth/login", login, HttpStatusCode.OK, ct);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session["data"]!["accessToken"]!.GetValue<string>());
        // An API key, not the session: the app restarts between sizes and the key outlives any token lifetime.
        var key = await ApiSetup.SendAsync(client, HttpMethod.Post, "/api/v1/user/api-keys",
            new { name = "analytics bench", scopes = new[] { "usage:read" }, rateLimitPerMinute = 10_000_000 }, HttpStatusCode.Created, ct);
        return (session["data"]!["user"]!["personalWorkspaceId"]!.GetValue<string>(), key["data"]!["key"]!.GetValue<string>());
    }

    /// <summary>Adds runs [<paramref name="from"/>, <paramref name="to"/>) and their model calls; returns the workspace's roll-up rows after.</summary>
    private static async Task<int> SeedAsync(string dataDir, string workspaceId, int from, int to, CancellationToken ct)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddStorage(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:DataDirectory"] = dataDir }).Build());
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IEntityStore>();
        var rollups = new AnalyticsRollups(store, Options.Create(new AnalyticsOptions()), new MemoryCache(new MemoryCacheOptions()), TimeProvider.System, NullLogger<AnalyticsRollups>.Instance);
        var recorder = new AnalyticsRecorder(rollups);
        var ledger = new UsageLedger(store, recorder, NullLogger<UsageLedger>.Instance);
        await ledger.StartAsync(ct);

        var now = DateTimeOffset.UtcNow;
        for (var i = from; i < to; i++)
        {
            // A fixed seed per run: every size holds the same history as the smaller ones, plus more.
            var random = new Random(i);
            var endedAt = now - Seeded * random.NextDouble();
            var workflow = random.Next(Workflows);
            var status = random.Next(20) switch { 0 => "failed", 1 => "cancelled", _ => "succeeded" };
            var nodes = NodeTypes.Select(t => new NodeFact(t, status == "failed" && t == "llm", t is "llm" or "http_request" ? 200 + random.Next(3_000) : random.Next(5))).ToList();
            recorder.Run(new RunFact(workspaceId, $"wf_{workflow:D2}", workflow < Apps ? $"app_{workflow}" : null, $"user_{random.Next(Users)}",
                random.Next(2) == 0 ? $"key_{random.Next(Keys)}" : null, status, endedAt, 500 + random.Next(10_000), workflow % 5, nodes));
            for (var call = 0; call < UsagePerRun; call++)
            {
                var (model, providerName) = Models[random.Next(Models.Length)];
                var prompt = 50 + random.Next(2_000);
                var completion = 10 + random.Next(800);
                ledger.Record(new UsageRecord($"use_{i:D7}_{call}", workspaceId, $"user_{random.Next(Users)}", random.Next(2) == 0 ? $"key_{random.Next(Keys)}" : null,
                    model, providerName, "chat", random.Next(2) == 0, prompt, completion, prompt + completion, Math.Round((prompt + completion) * 0.000002m, 6),
                    100 + random.Next(5_000), random.Next(2) == 0 ? 50 + random.Next(500) : null, random.Next(50) == 0 ? UsageStatus.Error : UsageStatus.Ok, "gateway",
                    endedAt - TimeSpan.FromSeconds(call), $"wf_{workflow:D2}", workflow < Apps ? $"app_{workflow}" : null));
            }

            if ((i + 1) % 10_000 == 0)
            {
                // Bounds what is held in memory; the app's flush does the same every second.
                await rollups.FlushAsync(ct);
                Log($"  {i + 1:N0} runs seeded");
            }
        }

        await rollups.FlushAsync(ct);
        await ledger.StopAsync(ct);

        var rows = 0;
        var query = new EntityQuery { PartitionKey = workspaceId, Take = EntityQuery.MaxTake };
        while (true)
        {
            var page = await store.QueryAsync(AnalyticsRollups.Table, query, ct);
            rows += page.Items.Count;
            if (page.ContinuationToken is null)
            {
                return rows;
            }

            query = query with { ContinuationToken = page.ContinuationToken };
        }
    }

    /// <summary>Times <see cref="Requests"/> ÷ <see cref="Rounds"/> requests per read (after <see cref="Warmup"/> on a freshly started app) into <paramref name="times"/>.</summary>
    private static async Task MeasureAsync(Uri baseAddress, string key, int runs, Dictionary<(int Runs, string Read), List<double>> times, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { UseProxy = false };
        using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        var now = DateTimeOffset.UtcNow;
        foreach (var read in Reads)
        {
            var path = read.Path(now);
            if (!times.TryGetValue((runs, read.Name), out var measured))
            {
                times[(runs, read.Name)] = measured = [];
            }

            for (var i = 0; i < Warmup + Requests / Rounds; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await client.GetAsync(path, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                watch.Stop();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {body}");
                }

                if (i == 0 && read.Name.StartsWith("dashboard (90", StringComparison.Ordinal))
                {
                    var total = JsonNode.Parse(body)!["data"]!["total_executions"]!.GetValue<long>();
                    if (total != runs)
                    {
                        throw new InvalidOperationException($"the 90-day dashboard counts {total} runs, {runs} were recorded");
                    }
                }

                if (i >= Warmup)
                {
                    measured.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            var cell = Cell.Of(runs, read.Name, measured);
            Log($"  {runs:N0} runs, {read.Name}: p50 {cell.P50:F1} ms, p99 {cell.P99:F1} ms so far");
        }
    }

    /// <summary>A copy of <paramref name="source"/> (the app is stopped: no file is open) at <paramref name="target"/>.</summary>
    private static string CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    private static (string Report, bool Pass) Render(int[] sizes, List<Cell> cells, List<Growth> growth)
    {
        var pass = true;
        var report = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        report.AppendLine(inv, $"## Analytics reads as history grows ({DateTimeOffset.UtcNow:yyyy-MM-dd}, SQLite, load {SuiteRun.LoadAverage()})").AppendLine();
        report.AppendLine("History over the 89 days before now: runs across 20 workflows (4 of them apps), 6 node types, 10 users, 5 API keys; ten model calls per run across 6 models of 3 providers.").AppendLine();
        report.AppendLine("| read | " + string.Join(" | ", sizes.Select(s => $"p50 / p99 ms at {s:N0} runs, {s * UsagePerRun:N0} calls")) + " | largest ÷ middle (p50) |");
        report.AppendLine("|---|" + string.Concat(sizes.Select(_ => "---|")) + "---|");
        foreach (var read in Reads)
        {
            var row = sizes.Select(s => cells.Single(c => c.Runs == s && c.Read == read.Name)).ToList();
            var ratio = row[^1].P50 / row[^2].P50;
            var ok = ratio <= MaxGrowth;
            pass &= ok;
            report.AppendLine(inv, $"| {read.Name} | {string.Join(" | ", row.Select(c => $"{c.P50:F1} / {c.P99:F1}"))} | {ratio:F2}{(ok ? "" : " **over 1.5**")} |");
        }

        report.AppendLine().AppendLine("| runs | model calls | seeding took | roll-up rows in the workspace |").AppendLine("|---|---|---|---|");
        foreach (var g in growth)
        {
            report.AppendLine(inv, $"| {g.Runs:N0} | {g.Usage:N0} | {g.Seed.TotalSeconds:F0} s | {g.RollupRows:N0} |");
        }

        report.AppendLine().AppendLine(inv, $"Target: each read's p50 at the largest size at most {MaxGrowth}× its p50 at the middle size: {(pass ? "met" : "NOT met")}. {Requests} sequential requests per read and size, in {Rounds} rounds that each start the app on every size in turn (a copy of the data as it was after seeding that size), each after {Warmup} warm-up requests.");
        return (report.ToString(), pass);
    }

    private static string Stamp(DateTimeOffset at) => Uri.EscapeDataString(at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
}
