using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Jint;
using Jint.Native;
using Jint.Native.Json;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Benchmarks;

/// <summary>
/// The code node's throughput for a small script (<c>return { doubled: inputs.n * 2 };</c>): (1) in process, the node's
/// own <c>ExecuteAsync</c> (sandboxed engine per run, guards, JSON in and out) against bare Jint doing the same work
/// with none of the sandbox (fresh engine, prepared script, JSON in and out), 1 and 8 callers; (2) end to end, start →
/// code → end through <c>/run</c> at 32 clients on the published app, against start → set → end in the same app.
/// No targets: reported, with the ratios.
/// </summary>
internal static class CodeSuite
{
    private const string Script = "return { doubled: inputs.n * 2 };";
    private const int Clients = 32;

    private sealed record Rate(string Scenario, int Callers, long Count, double PerSecond, double P50Us, double P99Us);

    public static async Task<int> RunAsync(BenchmarkOptions options, CancellationToken ct)
    {
        var loadBefore = SuiteRun.LoadAverage();
        var inProcess = new List<Rate>();
        using (var node = new CodeNode(new CodeNodeLimits()))
        {
            var context = Context();
            foreach (var callers in new[] { 1, 8 })
            {
                Log($"code: bare Jint, {callers} caller(s)");
                inProcess.Add(await MeasureAsync("bare Jint (fresh engine, prepared script, JSON in/out)", callers, options, _ => BareJint(), ct));
                Log($"code: code node ExecuteAsync, {callers} caller(s)");
                inProcess.Add(await MeasureAsync("code node `ExecuteAsync` (sandbox)", callers, options, async token =>
                {
                    var result = await node.ExecuteAsync(context, token);
                    if (result.Outcome != NodeOutcome.Completed)
                    {
                        throw new InvalidOperationException(result.Error?.Message);
                    }
                }, ct));
            }
        }

        return await SuiteRun.WithAppAsync("code", options, _ => WorkflowSuite.Environment, async (_, server) =>
        {
            var owner = await ApiSetup.CreateCredentialsAsync(server.BaseAddress, ct);
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.AccessToken);
            var set = await WorkflowSuite.CreateAsync(client, "start-set-end", WorkflowSuite.Linear(1), ct);
            var code = await WorkflowSuite.CreateAsync(client, "start-code-end", CodeWorkflow(), ct);
            var endToEnd = new List<(string Scenario, List<double> Latencies, int Errors, TimeSpan Elapsed)>();
            foreach (var (name, id) in new[] { ("start → set → end (baseline)", set), ("start → code → end", code) })
            {
                Log($"code: {name} via /run @ {Clients} clients");
                await WorkflowSuite.ConcurrentAsync(client, id, Clients, options.Warmup, ct);
                var (latencies, errors, elapsed) = await WorkflowSuite.ConcurrentAsync(client, id, Clients, options.Duration, ct);
                endToEnd.Add((name, latencies, errors, elapsed));
                Log($"  {latencies.Count / elapsed.TotalSeconds:F0} runs/s, errors {errors}");
            }

            await RunFiles.WriteReportAsync(Render(options, loadBefore, SuiteRun.LoadAverage(), inProcess, endToEnd), options, ct);
            return 0;
        }, ct);
    }

    private static NodeContext Context()
    {
        var inputs = new JsonObject { ["n"] = 21 };
        return new NodeContext
        {
            ExecutionId = "exe_bench",
            WorkspaceId = "ws_bench",
            Node = new NodeDefinition("c", "code", null, new JsonObject { ["code"] = Script }),
            Config = new JsonObject { ["code"] = Script },
            RunInputs = inputs,
            Attempt = 1,
            Clock = TimeProvider.System,
            Scope = new NoReferences(),
            PredecessorOutputs = new Dictionary<string, JsonNode?> { ["start"] = inputs },
            UpstreamOutputs = new Dictionary<string, JsonNode?> { ["start"] = inputs },
        };
    }

    private static readonly Prepared<Acornima.Ast.Script> BareScript = Engine.PrepareScript("(function (inputs, nodes) {" + Script + "\n})", strict: true);

    private static Task BareJint()
    {
        var engine = new Engine(o => o.Strict());
        var arguments = new JsonParser(engine).Parse("""{"inputs":{"n":21},"nodes":{"start":{"n":21}}}""").AsObject();
        var result = engine.Invoke(engine.Evaluate(BareScript), JsValue.Undefined, [arguments.Get("inputs"), arguments.Get("nodes")]);
        _ = JsonNode.Parse(new JsonSerializer(engine).Serialize(result).ToString());
        return Task.CompletedTask;
    }

    private static async Task<Rate> MeasureAsync(string scenario, int callers, BenchmarkOptions options, Func<CancellationToken, Task> once, CancellationToken ct)
    {
        async Task<List<double>> LoopAsync(TimeSpan duration)
        {
            var stop = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var results = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
            {
                var latencies = new List<double>();
                while (Stopwatch.GetTimestamp() < stop)
                {
                    var started = Stopwatch.GetTimestamp();
                    await once(ct);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                }

                return latencies;
            }, ct)));
            return [.. results.SelectMany(r => r)];
        }

        await LoopAsync(options.Warmup);
        var watch = Stopwatch.StartNew();
        var measured = AutomationSuite.Stats.Of(await LoopAsync(options.Duration));
        var seconds = watch.Elapsed.TotalSeconds;
        Log($"  {measured.Count / seconds:F0}/s");
        return new Rate(scenario, callers, measured.Count, measured.Count / seconds, measured.P50, measured.P99);
    }

    private static JsonObject CodeWorkflow() => new()
    {
        ["nodes"] = new JsonArray
        {
            new JsonObject { ["id"] = "start", ["type"] = "start" },
            new JsonObject { ["id"] = "c", ["type"] = "code", ["config"] = new JsonObject { ["language"] = "javascript", ["code"] = Script } },
            new JsonObject { ["id"] = "end", ["type"] = "end", ["config"] = new JsonObject { ["outputs"] = new JsonObject { ["v"] = "{{c.doubled}}" } } },
        },
        ["edges"] = new JsonArray
        {
            new JsonObject { ["source"] = "start", ["target"] = "c" },
            new JsonObject { ["source"] = "c", ["target"] = "end" },
        },
    };

    private static string Render(BenchmarkOptions options, string loadBefore, string loadAfter, List<Rate> inProcess,
        List<(string Scenario, List<double> Latencies, int Errors, TimeSpan Elapsed)> endToEnd)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');
        Line($"### Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; load average (1/5/15 min) {loadBefore} before, {loadAfter} after. Script: `{Script}`, inputs `{{\"n\": 21}}`; {options.Warmup.TotalSeconds:0.#} s warm-up then {options.Duration.TotalSeconds:0.#} s per row.");
        Line($"");
        Line($"In process (the node as the `RunNode` activity calls it; default limits, `CodeNode__Concurrency` = processors):");
        Line($"");
        Line($"| scenario | callers | executions | executions/s | p50 µs | p99 µs | vs bare Jint |");
        Line($"|---|---|---|---|---|---|---|");
        foreach (var r in inProcess)
        {
            var bare = inProcess.First(b => b.Callers == r.Callers);
            Line($"| {r.Scenario} | {r.Callers} | {r.Count:N0} | {r.PerSecond:N0} | {r.P50Us:F0} | {r.P99Us:F0} | {r.PerSecond / bare.PerSecond:P0} |");
        }

        Line($"");
        Line($"End to end (published app, embedded SQLite, Durable Task on the SQLite orchestration service; POST /run, {Clients} closed-loop clients, each run checked to have succeeded):");
        Line($"");
        Line($"| workflow | runs | runs/s | p50 ms | p99 ms | errors | vs baseline |");
        Line($"|---|---|---|---|---|---|---|");
        var baseline = endToEnd[0].Latencies.Count / endToEnd[0].Elapsed.TotalSeconds;
        foreach (var (scenario, latencies, errors, elapsed) in endToEnd)
        {
            var stats = AutomationSuite.Stats.Of(latencies);
            var rate = stats.Count / elapsed.TotalSeconds;
            Line($"| {scenario} | {stats.Count:N0} | {rate:N0} | {stats.P50:F1} | {stats.P99:F1} | {errors} | {rate / baseline:P0} |");
        }

        return text.ToString();
    }

    private sealed class NoReferences : IReferenceScope
    {
        public JsonNode? Lookup(string reference) => null;
    }

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
}
