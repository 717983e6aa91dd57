using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Benchmarks;

/// <summary>
/// Webhooks out and in, on the published app with its standalone trigger host: (1) fan-out, 1,000 start → set → end runs
/// each delivering one <c>workflow.completed</c> to a receiver in this process (deliveries/s, delay from the run's
/// completedAt to arrival, every event accounted for); (2) inbound, 32 clients POSTing to a webhook trigger's URL
/// (accepted runs/s, latency of the 202), then a sample of the started runs checked to finish. No targets: reported.
/// </summary>
internal static class AutomationSuite
{
    private const int FanOutRuns = 1_000;
    private const int Clients = 32;
    private const int Sample = 100;
    private static readonly TimeSpan DeliveryIdleLimit = TimeSpan.FromSeconds(45); // longer than the first retry (30 s)
    private static readonly TimeSpan DeliveryWaitLimit = TimeSpan.FromSeconds(150);

    public static Task<int> RunAsync(BenchmarkOptions options, CancellationToken ct) =>
        SuiteRun.WithAppAsync("automation", options, _ => new Dictionary<string, string>(WorkflowSuite.Environment)
        {
            ["Webhooks__AllowedPrivateHosts"] = "127.0.0.1",
            ["WorkflowTriggers__HookPerMinute"] = "1000000", // the setting's maximum
        }, async (_, server) =>
        {
            var loadBefore = SuiteRun.LoadAverage();
            await using var receiver = await Receiver.StartAsync();
            var owner = await ApiSetup.CreateCredentialsAsync(server.BaseAddress, ct);
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            using var api = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", owner.AccessToken);
            var workflowId = await WorkflowSuite.CreateAsync(api, "start-set-end", WorkflowSuite.Linear(1), ct);

            Log("automation: warm-up runs (no webhook yet)");
            await RunManyAsync(api, workflowId, 64, ct);
            var hook = (await ApiSetup.SendAsync(api, HttpMethod.Post, "/api/v1/webhooks",
                new { url = receiver.Url, events = new[] { "workflow.completed" }, active = true }, HttpStatusCode.Created, ct))["data"]!;
            var webhookId = hook["id"]!.GetValue<string>();
            receiver.Secret = hook["secret"]!.GetValue<string>();
            await ApiSetup.SendAsync(api, HttpMethod.Post, $"/api/v1/webhooks/{webhookId}/test", null, HttpStatusCode.Accepted, ct);
            await WaitAsync(() => receiver.Arrivals.Any(a => a.Event == "webhook.test"), TimeSpan.FromSeconds(30), ct);

            Log($"automation: fan-out, {FanOutRuns} runs @ {Clients} clients");
            var runStarted = Stopwatch.GetTimestamp();
            var runs = await RunManyAsync(api, workflowId, FanOutRuns, ct);
            var runSeconds = Stopwatch.GetElapsedTime(runStarted).TotalSeconds;
            var runIds = runs.Where(r => r.Ok).Select(r => r.RunId!).ToHashSet();
            Log($"  {runIds.Count} runs succeeded in {runSeconds:F1} s; waiting for deliveries");
            var waitStarted = Stopwatch.GetTimestamp();
            var lastCount = -1;
            var lastProgress = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(waitStarted) < DeliveryWaitLimit && Stopwatch.GetElapsedTime(lastProgress) < DeliveryIdleLimit)
            {
                var arrived = receiver.Arrivals.Where(a => a.RunId is not null && runIds.Contains(a.RunId)).Select(a => a.RunId).Distinct().Count();
                if (arrived == runIds.Count)
                {
                    break;
                }

                (lastCount, lastProgress) = arrived != lastCount ? (arrived, Stopwatch.GetTimestamp()) : (lastCount, lastProgress);
                await Task.Delay(200, ct);
            }

            var completedAt = new ConcurrentDictionary<string, DateTimeOffset>();
            await Parallel.ForEachAsync(runIds, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (id, token) =>
            {
                var run = (await ApiSetup.SendAsync(api, HttpMethod.Get, $"/api/v1/executions/{id}", null, HttpStatusCode.OK, token))["data"]!;
                completedAt[id] = run["completedAt"]!.GetValue<DateTimeOffset>();
            });
            var fanOut = FanOutResult.From(receiver.Arrivals.ToList(), completedAt, runs.Count(r => !r.Ok), runSeconds);
            Log($"  {fanOut.Unique}/{runIds.Count} events, {fanOut.PerSecond:F0} deliveries/s, delay p50 {fanOut.Delays.P50:F0} ms p99 {fanOut.Delays.P99:F0} ms");

            // The inbound runs are workflow.completed too: the webhook is switched off so part 2 measures the inbound path alone.
            await ApiSetup.SendAsync(api, HttpMethod.Put, $"/api/v1/webhooks/{webhookId}", new { active = false }, HttpStatusCode.OK, ct);
            var trigger = (await ApiSetup.SendAsync(api, HttpMethod.Post, $"/api/v1/workflows/{workflowId}/triggers",
                new { type = "webhook", respond = "immediately", inputs = new { n = 1 } }, HttpStatusCode.Created, ct))["data"]!;
            var hookUri = new Uri(server.BaseAddress, new Uri(trigger["url"]!.GetValue<string>()).PathAndQuery);
            Log($"automation: inbound @ {Clients} clients, {options.Warmup.TotalSeconds:0.#} s warm-up + {options.Duration.TotalSeconds:0.#} s");
            var inbound = await InboundAsync(hookUri, options.Warmup, options.Duration, ct);
            Log($"  {inbound.Accepted.Count / options.Duration.TotalSeconds:F0} accepted/s, p50 {inbound.Latencies.P50:F1} ms, p99 {inbound.Latencies.P99:F1} ms, errors {inbound.Errors}");
            var sample = await CheckSampleAsync(api, inbound.Accepted, ct);
            Log($"  sample: {sample.Succeeded}/{sample.Count} succeeded, last after {sample.DrainSeconds:F1} s");

            await RunFiles.WriteReportAsync(Render(options, loadBefore, SuiteRun.LoadAverage(), FanOutRuns, runIds.Count, fanOut, inbound, sample), options, ct);
            return 0;
        }, ct);

    private sealed record Arrival(string Id, string Event, string? RunId, DateTimeOffset At, bool SignatureOk);

    internal sealed record Stats(int Count, double P50, double P99, double Max)
    {
        public static Stats Of(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            double At(double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
            return new(sorted.Count, At(0.5), At(0.99), sorted.Count == 0 ? double.NaN : sorted[^1]);
        }
    }

    private sealed record FanOutResult(
        int Unique, int Missing, int Duplicates, int Unexpected, int BadSignatures, int RunErrors, double RunSeconds, double SpanSeconds, double PerSecond, Stats Delays)
    {
        public static FanOutResult From(List<Arrival> arrivals, IReadOnlyDictionary<string, DateTimeOffset> completedAt, int runErrors, double runSeconds)
        {
            var events = arrivals.Where(a => a.Event == "workflow.completed").ToList();
            var mine = events.Where(a => a.RunId is not null && completedAt.ContainsKey(a.RunId)).GroupBy(a => a.RunId!).ToList();
            var first = mine.Select(g => g.MinBy(a => a.At)!).ToList();
            var span = first.Count > 1 ? (first.Max(a => a.At) - first.Min(a => a.At)).TotalSeconds : double.NaN;
            return new(first.Count, completedAt.Count - first.Count, mine.Sum(g => g.Count() - 1), events.Count - mine.Sum(g => g.Count()),
                arrivals.Count(a => !a.SignatureOk), runErrors, runSeconds, span, (first.Count - 1) / span,
                Stats.Of(first.Select(a => (a.At - completedAt[a.RunId!]).TotalMilliseconds)));
        }
    }

    private sealed record InboundResult(List<string> Accepted, Stats Latencies, int Errors, int RateLimited, int Requests);

    private sealed record SampleResult(int Count, int Succeeded, int Failed, int Unfinished, double DrainSeconds, Stats RunMs);

    /// <summary><paramref name="total"/> runs through /run, <see cref="Clients"/> in flight (each waits for its run): run ids and whether each succeeded.</summary>
    private static async Task<List<(string? RunId, bool Ok)>> RunManyAsync(HttpClient api, string workflowId, int total, CancellationToken ct)
    {
        var next = -1;
        var results = new ConcurrentBag<(string?, bool)>();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < total)
            {
                try
                {
                    using var response = await api.PostAsJsonAsync($"/api/v1/workflows/{workflowId}/run", new { inputs = new { n = 1 }, options = new { timeout = 30_000 } }, ct);
                    var data = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))?["data"];
                    results.Add((data?["runId"]?.GetValue<string>(), response.StatusCode == HttpStatusCode.OK && data?["status"]?.GetValue<string>() == "succeeded"));
                }
                catch (HttpRequestException)
                {
                    results.Add((null, false));
                }
            }
        }, ct)));
        return [.. results];
    }

    /// <summary>Closed loop on the hook URL; only requests ending inside the measured window count.</summary>
    private static async Task<InboundResult> InboundAsync(Uri hook, TimeSpan warmup, TimeSpan duration, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Clients, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var body = """{"event":"bench","n":1}"""u8.ToArray();
        var start = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            var mine = new List<(int Status, double Ms, string? ExecutionId)>();
            while (Stopwatch.GetTimestamp() < end)
            {
                var t = Stopwatch.GetTimestamp();
                (int, string?) outcome;
                try
                {
                    using var content = new ByteArrayContent(body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    using var response = await client.PostAsync(hook, content, ct);
                    var text = await response.Content.ReadAsStringAsync(ct);
                    outcome = ((int)response.StatusCode, response.StatusCode == HttpStatusCode.Accepted ? JsonNode.Parse(text)?["data"]?["executionId"]?.GetValue<string>() : null);
                }
                catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    outcome = (0, null);
                }

                var done = Stopwatch.GetTimestamp();
                if (done >= start && done < end)
                {
                    mine.Add((outcome.Item1, Stopwatch.GetElapsedTime(t, done).TotalMilliseconds, outcome.Item2));
                }
            }

            return mine;
        }, ct)));
        var all = outcomes.SelectMany(o => o).ToList();
        var accepted = all.Where(o => o.Status == 202 && o.ExecutionId is not null).ToList();
        return new([.. accepted.Select(o => o.ExecutionId!)], Stats.Of(accepted.Select(o => o.Ms)), all.Count - accepted.Count, all.Count(o => o.Status == 429), all.Count);
    }

    /// <summary>Polls <see cref="Sample"/> evenly spread accepted runs until they end (at most two minutes after the load stopped).</summary>
    private static async Task<SampleResult> CheckSampleAsync(HttpClient api, List<string> accepted, CancellationToken ct)
    {
        var ids = accepted.Count <= Sample ? accepted : [.. Enumerable.Range(0, Sample).Select(i => accepted[(int)((long)i * accepted.Count / Sample)])];
        var ended = new Dictionary<string, JsonNode>();
        var started = Stopwatch.GetTimestamp();
        var drain = 0.0;
        while (ended.Count < ids.Count && Stopwatch.GetElapsedTime(started) < TimeSpan.FromMinutes(2))
        {
            foreach (var id in ids.Where(i => !ended.ContainsKey(i)))
            {
                var run = (await ApiSetup.SendAsync(api, HttpMethod.Get, $"/api/v1/executions/{id}", null, HttpStatusCode.OK, ct))["data"]!;
                if (run["completedAt"] is { } at && at.GetValueKind() == System.Text.Json.JsonValueKind.String)
                {
                    ended[id] = run;
                    drain = Stopwatch.GetElapsedTime(started).TotalSeconds;
                }
            }

            if (ended.Count < ids.Count)
            {
                await Task.Delay(250, ct);
            }
        }

        var succeeded = ended.Values.Count(r => r["status"]?.GetValue<string>() == "succeeded");
        return new(ids.Count, succeeded, ended.Count - succeeded, ids.Count - ended.Count, drain,
            Stats.Of(ended.Values.Select(r => (r["completedAt"]!.GetValue<DateTimeOffset>() - r["createdAt"]!.GetValue<DateTimeOffset>()).TotalMilliseconds)));
    }

    private static async Task WaitAsync(Func<bool> condition, TimeSpan limit, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > limit)
            {
                throw new TimeoutException($"the receiver heard nothing within {limit}");
            }

            await Task.Delay(50, ct);
        }
    }

    private static string Render(BenchmarkOptions options, string loadBefore, string loadAfter, int runsStarted, int runsSucceeded, FanOutResult f, InboundResult i, SampleResult s)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var seconds = options.Duration.TotalSeconds;
        Line($"### Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors ({CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; load average (1/5/15 min) {loadBefore} before, {loadAfter} after.");
        Line($"Published app, embedded SQLite store, standalone trigger host draining the queues in process; the receiver (Kestrel, answers 200 at once and checks each signature) and the clients are in the benchmark process, all on loopback.");
        Line($"");
        Line($"- **Fan-out**: one webhook on `workflow.completed` (warmed by a `webhook.test` delivery), then {runsStarted:N0} start → set → end runs through `/run`, {Clients} in flight. deliveries/s = (events − 1) ÷ (last − first first arrival); delay = first arrival at the receiver − the run's `completedAt` (`GET /api/v1/executions/{{id}}`).");
        Line($"- **Inbound**: a webhook trigger (`respond: immediately`) on the same workflow, {Clients} closed-loop clients POSTing JSON to its URL, {options.Warmup.TotalSeconds:0.#} s warm-up then {seconds:0.#} s measured; the outbound webhook is switched off first. Then {s.Count} of the accepted runs, spread evenly, polled until they end.");
        Line($"");
        Line($"| scenario | events / requests | rate | p50 ms | p99 ms | max ms | errors | target |");
        Line($"|---|---|---|---|---|---|---|---|");
        Line($"| fan-out: `workflow.completed` deliveries, run end → receiver | {f.Unique:N0} of {runsSucceeded:N0} | {f.PerSecond:N0} deliveries/s | {f.Delays.P50:F0} | {f.Delays.P99:F0} | {f.Delays.Max:F0} | {f.Missing} missing, {f.Duplicates} duplicates | reported |");
        Line($"| inbound: POST hook URL → 202 | {i.Accepted.Count:N0} accepted of {i.Requests:N0} | {i.Accepted.Count / seconds:N0} runs/s | {i.Latencies.P50:F1} | {i.Latencies.P99:F1} | {i.Latencies.Max:F1} | {i.Errors} ({i.RateLimited} × 429) | reported |");
        Line($"| inbound sample: accepted run → ended (`completedAt − createdAt`) | {s.Count} | — | {s.RunMs.P50:F0} | {s.RunMs.P99:F0} | {s.RunMs.Max:F0} | {s.Failed} failed, {s.Unfinished} unfinished | reported |");
        Line($"");
        Line($"Raw numbers:");
        Line($"");
        Line($"```");
        Line($"fanout.runs_started={runsStarted} runs_succeeded={runsSucceeded} run_errors={f.RunErrors} run_phase_s={f.RunSeconds:F2} runs_per_s={runsStarted / f.RunSeconds:F1}");
        Line($"fanout.events_unique={f.Unique} missing={f.Missing} duplicates={f.Duplicates} unexpected={f.Unexpected} bad_signatures={f.BadSignatures}");
        Line($"fanout.delivery_span_s={f.SpanSeconds:F2} deliveries_per_s={f.PerSecond:F1} delay_ms p50={f.Delays.P50:F1} p99={f.Delays.P99:F1} max={f.Delays.Max:F1}");
        Line($"inbound.clients={Clients} measured_s={seconds:F1} requests={i.Requests} accepted={i.Accepted.Count} accepted_per_s={i.Accepted.Count / seconds:F1} errors={i.Errors} http_429={i.RateLimited}");
        Line($"inbound.latency_ms p50={i.Latencies.P50:F2} p99={i.Latencies.P99:F2} max={i.Latencies.Max:F2}");
        Line($"inbound.sample={s.Count} succeeded={s.Succeeded} failed={s.Failed} unfinished={s.Unfinished} last_ended_after_load_s={s.DrainSeconds:F1} run_ms p50={s.RunMs.P50:F1} p99={s.RunMs.P99:F1} max={s.RunMs.Max:F1}");
        Line($"```");
        return text.ToString();
    }

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");

    /// <summary>The webhook receiver: records each delivery's arrival (UTC) and whether its signature holds, and answers 200.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public ConcurrentQueue<Arrival> Arrivals { get; } = new();

        public string Url { get; private set; } = "";

        public volatile string? Secret;

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hook", receiver.ReceiveAsync);
            await app.StartAsync();
            receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/hook";
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task ReceiveAsync(HttpContext context)
        {
            var at = DateTimeOffset.UtcNow;
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var body = buffer.ToArray();
            var timestamp = context.Request.Headers["X-Webhook-Timestamp"].ToString();
            var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret ?? ""), Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray()));
            var json = JsonNode.Parse(body)!;
            Arrivals.Enqueue(new Arrival(json["id"]!.GetValue<string>(), json["event"]!.GetValue<string>(), json["data"]?["runId"]?.GetValue<string>(), at,
                expected == context.Request.Headers["X-Webhook-Signature"].ToString()));
            context.Response.StatusCode = 200;
        }
    }
}
