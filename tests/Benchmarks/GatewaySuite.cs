using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Serverless.Benchmarks;

/// <summary>
/// The model gateway against one fake upstream, at 64 concurrent clients: the same requests sent straight to the
/// upstream and through the gateway (published app, API key auth, provider routing, usage recording), back to back.
/// The gateway's cost is the difference: added latency and time to first token, and throughput relative to direct.
/// </summary>
internal static class GatewaySuite
{
    public static readonly int Connections = int.TryParse(Environment.GetEnvironmentVariable("BENCH_CONNECTIONS"), out var c) ? c : 64;
    private const double MaxAddedP50Ms = 1;
    private const double MaxAddedP99Ms = 5;
    private const double MaxAddedFirstTokenP50Ms = 1;
    private const double MinThroughputRatio = 0.8;
    private const double MinRequestsPerSecond = 1_000;

    public static Task<int> RunAsync(BenchmarkOptions options, CancellationToken ct) =>
        SuiteRun.WithAppAsync("gateway", options, upstream => new Dictionary<string, string>
        {
            ["Models__Providers__0__Name"] = "bench",
            ["Models__Providers__0__Kind"] = "openai-compatible",
            ["Models__Providers__0__BaseUrl"] = upstream.BaseUrl + "v1",
            ["Models__Providers__0__ApiKey"] = "sk-bench",
            ["Models__Providers__0__Models__0__Id"] = "bench-model",
            ["Models__Providers__0__Models__0__InputPricePer1K"] = "0.15",
            ["Models__Providers__0__Models__0__OutputPricePer1K"] = "0.6",
            ["Models__Providers__1__Name"] = "bench-slow",
            ["Models__Providers__1__Kind"] = "openai-compatible",
            ["Models__Providers__1__BaseUrl"] = upstream.BaseUrl + "slow/v1",
            ["Models__Providers__1__ApiKey"] = "sk-bench",
            ["Models__Providers__1__Models__0__Id"] = "bench-slow",
            ["RateLimits__ExecutePerMinute"] = "10000000",
        }, async (upstream, server) =>
        {
            await using var forwarder = await BareForwarder.StartAsync(upstream.BaseUrl);
            var key = await CreateModelKeyAsync(server.BaseAddress, ct);

            await WarmUpAsync(upstream, forwarder, server, key, ct);
            var results = new List<PostScenarioResult>();
            var cpuPerRequest = new Dictionary<string, (double Gateway, double Bench)>();
            foreach (var profile in Profiles)
            {
                var chat = Encoding.UTF8.GetBytes($"{{\"model\":\"{profile.Model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"Say hello.\"}}],\"max_tokens\":16}}");
                var streamChat = Encoding.UTF8.GetBytes($"{{\"model\":\"{profile.Model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"Say hello.\"}}],\"max_tokens\":16,\"stream\":true}}");
                var direct = new Uri(upstream.BaseUrl, profile.UpstreamPath + "/chat/completions");
                var gateway = new Uri(server.BaseAddress, "/v1/chat/completions");
                PostScenario[] scenarios =
                [
                    new($"{profile.Name}: direct (non-stream)", direct, chat, "sk-bench", false),
                    new($"{profile.Name}: gateway (non-stream)", gateway, chat, key, false),
                    new($"{profile.Name}: direct (stream)", direct, streamChat, "sk-bench", true),
                    new($"{profile.Name}: gateway (stream)", gateway, streamChat, key, true),
                    // For scale, on the instant upstream only (a wait hides every hop): the cheapest possible extra hop.
                    .. profile.WithReference
                        ? new PostScenario[]
                        {
                            new($"{profile.Name}: {ReferenceName} (non-stream)", new Uri(forwarder.BaseUrl, "v1/chat/completions"), chat, "sk-bench", false),
                            new($"{profile.Name}: {ReferenceName} (stream)", new Uri(forwarder.BaseUrl, "v1/chat/completions"), streamChat, "sk-bench", true),
                        }
                        : [],
                ];

                foreach (var scenario in scenarios)
                {
                    Log($"running {scenario.Name} @ {Connections} connections");
                    var cpu = CpuWindow.MeasureAsync(server.Id, options.Warmup, options.Duration, ct);
                    var result = await HttpLoad.RunAsync(scenario, Connections, options.Warmup, options.Duration, ct);
                    var requests = result.RequestsPerSecond * options.Duration.TotalSeconds;
                    var (gatewayCpu, benchCpu) = await cpu;
                    var perRequest = (Gateway: requests > 0 ? gatewayCpu.TotalMicroseconds / requests : 0, Bench: requests > 0 ? benchCpu.TotalMicroseconds / requests : 0);
                    cpuPerRequest[scenario.Name] = perRequest;
                    Log($"  {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms, first token p50 {result.FirstTokenP50Ms:F2} ms, errors {result.Errors}");
                    Log($"  CPU per request: gateway {perRequest.Gateway:F0} µs, benchmark {perRequest.Bench:F0} µs");
                    results.Add(result);
                }
            }

            var markdown = Render(options, results, cpuPerRequest, server.ReadRssMegabytes());
            await RunFiles.WriteReportAsync(markdown, options, ct);

            return 0;
        }, ct);

    /// <summary>
    /// The runtime keeps re-compiling the gateway's hot path (tiering, dynamic PGO) for the first ten-odd seconds of
    /// load; a long-running gateway lives past that, so every path (the bare forwarder too) gets this much traffic
    /// before anything is measured.
    /// </summary>
    private static async Task WarmUpAsync(FakeOpenAi upstream, BareForwarder forwarder, ServerProcess server, string key, CancellationToken ct)
    {
        Log($"warming up for {2 * WarmUp.TotalSeconds:0} s");
        var body = Encoding.UTF8.GetBytes("{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\",\"content\":\"warm\"}]}");
        var streamBody = Encoding.UTF8.GetBytes("{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\",\"content\":\"warm\"}],\"stream\":true}");
        var gateway = new Uri(server.BaseAddress, "/v1/chat/completions");
        var direct = new Uri(upstream.BaseUrl, "v1/chat/completions");
        await Task.WhenAll(
            HttpLoad.RunAsync(new PostScenario("warm-up", gateway, body, key, false), Connections / 2, WarmUp, TimeSpan.FromMilliseconds(1), ct),
            HttpLoad.RunAsync(new PostScenario("warm-up", direct, body, "sk-bench", false), 4, WarmUp, TimeSpan.FromMilliseconds(1), ct),
            HttpLoad.RunAsync(new PostScenario("warm-up", new Uri(forwarder.BaseUrl, "v1/chat/completions"), body, "sk-bench", false), 4, WarmUp, TimeSpan.FromMilliseconds(1), ct));
        await HttpLoad.RunAsync(new PostScenario("warm-up", gateway, streamBody, key, true), Connections / 2, WarmUp, TimeSpan.FromMilliseconds(1), ct);
    }

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(10);

    private const string ReferenceName = "bare forwarder, reference";

    private sealed record Profile(string Name, string Model, string UpstreamPath, bool WithReference);

    // The instant upstream measures the gateway's own cost with nothing to hide it; the 50 ms one is closer to a real
    // model, where the gateway's work overlaps the wait for the upstream.
    private static readonly Profile[] Profiles =
    [
        new("instant upstream", "bench-model", "v1", WithReference: true),
        new($"{FakeOpenAi.SlowServiceTime.TotalMilliseconds:0} ± 10 ms upstream", "bench-slow", "slow/v1", WithReference: false),
    ];

    private static string Render(
        BenchmarkOptions options, IReadOnlyList<PostScenarioResult> results, IReadOnlyDictionary<string, (double Gateway, double Bench)> cpu, double rssMb)
    {
        var culture = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void Line(FormattableString text) => sb.Append(text.ToString(culture)).Append('\n');
        PostScenarioResult Get(string name) => results.Single(r => r.Name == name);

        Line($"## Gateway benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}.");
        Line($"{Connections} closed-loop clients, HTTP/1.1 keep-alive over loopback; after a {2 * WarmUp.TotalSeconds:0} s warm-up of the gateway (non-stream, then stream), each scenario {options.Warmup.TotalSeconds:0.#} s warmup + {options.Duration.TotalSeconds:0.#} s measured. The fake upstream, the load generator and the gateway share the machine; direct = client → fake upstream, gateway = client → published app (API key, routing, usage rows) → the same fake upstream.");
        Line($"");
        Line($"Load average when the run ended: {LoadAverage()} (the machine is shared; other work inflates the gateway's numbers more than the direct ones, since the gateway needs the CPU the others take).");
        Line($"");
        Line($"| scenario | req/s | p50 ms | p99 ms | first token p50 ms | first token p99 ms | errors | CPU µs/request: gateway process | CPU µs/request: benchmark process |");
        Line($"|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var first = r.Name.Contains("stream)", StringComparison.Ordinal) && !r.Name.Contains("non-stream", StringComparison.Ordinal);
            var (gatewayCpu, benchCpu) = cpu[r.Name];
            Line($"| {r.Name} | {r.RequestsPerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {(first ? r.FirstTokenP50Ms.ToString("F2", culture) : "–")} | {(first ? r.FirstTokenP99Ms.ToString("F2", culture) : "–")} | {r.Errors} | {gatewayCpu:F0} | {benchCpu:F0} |");
        }

        Line($"");
        Line($"CPU per request is the process's user + system time over the measured window divided by the requests in it; it moves less with what else runs on the machine than req/s does, so it is the figure to compare between runs of the same scenario (at the 50 ms upstream the rate is low and it is mostly the thread pool waking and spinning between requests). The benchmark process holds the load generator, the fake upstream and the bare forwarder; the gateway process is idle in the direct and bare-forwarder rows.");

        foreach (var profile in Profiles)
        {
            var directPlain = Get($"{profile.Name}: direct (non-stream)");
            var gatewayPlain = Get($"{profile.Name}: gateway (non-stream)");
            var directStream = Get($"{profile.Name}: direct (stream)");
            var gatewayStream = Get($"{profile.Name}: gateway (stream)");
            var addedP50 = gatewayPlain.P50Ms - directPlain.P50Ms;
            var addedP99 = gatewayPlain.P99Ms - directPlain.P99Ms;
            var addedFirst = gatewayStream.FirstTokenP50Ms - directStream.FirstTokenP50Ms;
            var ratio = directPlain.RequestsPerSecond > 0 ? gatewayPlain.RequestsPerSecond / directPlain.RequestsPerSecond : 0;
            var errors = new[] { directPlain, gatewayPlain, directStream, gatewayStream }.Sum(r => r.Errors);
            Line($"");
            Line($"| target ({profile.Name}) | measured | result |");
            Line($"|---|---|---|");
            Line($"| added latency p50 ≤ {MaxAddedP50Ms:0} ms (non-stream) | {addedP50:F2} ms | {Verdict(addedP50 <= MaxAddedP50Ms)} |");
            Line($"| added latency p99 ≤ {MaxAddedP99Ms:0} ms (non-stream) | {addedP99:F2} ms | {Verdict(addedP99 <= MaxAddedP99Ms)} |");
            Line($"| added time to first token p50 ≤ {MaxAddedFirstTokenP50Ms:0} ms (stream) | {addedFirst:F2} ms | {Verdict(addedFirst <= MaxAddedFirstTokenP50Ms)} |");
            Line($"| gateway throughput ≥ {MinThroughputRatio:P0} of direct | {ratio:P0} ({gatewayPlain.RequestsPerSecond:N0} vs {directPlain.RequestsPerSecond:N0} req/s) | {Verdict(ratio >= MinThroughputRatio)} |");
            Line($"| gateway ≥ {MinRequestsPerSecond:N0} non-stream req/s | {gatewayPlain.RequestsPerSecond:N0} req/s | {Verdict(gatewayPlain.RequestsPerSecond >= MinRequestsPerSecond)} |");
            Line($"| no errors | {errors} | {Verdict(errors == 0)} |");
            if (profile.WithReference)
            {
                // Not a target: the same measures for a hop that does nothing, i.e. what the hop alone costs here.
                var barePlain = Get($"{profile.Name}: {ReferenceName} (non-stream)");
                var bareStream = Get($"{profile.Name}: {ReferenceName} (stream)");
                var bareRatio = directPlain.RequestsPerSecond > 0 ? barePlain.RequestsPerSecond / directPlain.RequestsPerSecond : 0;
                Line($"");
                Line($"| reference: {ReferenceName} ({profile.Name}) | measured |");
                Line($"|---|---|");
                Line($"| added latency p50 / p99 (non-stream) | {barePlain.P50Ms - directPlain.P50Ms:F2} ms / {barePlain.P99Ms - directPlain.P99Ms:F2} ms |");
                Line($"| added time to first token p50 (stream) | {bareStream.FirstTokenP50Ms - directStream.FirstTokenP50Ms:F2} ms |");
                Line($"| throughput vs direct | {bareRatio:P0} ({barePlain.RequestsPerSecond:N0} vs {directPlain.RequestsPerSecond:N0} req/s) |");
                Line($"| gateway throughput vs this bare hop | {(barePlain.RequestsPerSecond > 0 ? gatewayPlain.RequestsPerSecond / barePlain.RequestsPerSecond : 0):P0} |");
            }
        }

        Line($"");
        Line($"Gateway RSS after the run: {rssMb:F1} MB.");
        return sb.ToString();
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string Verdict(bool pass) => pass ? "PASS" : "FAIL";

    private static async Task<string> CreateModelKeyAsync(Uri baseAddress, CancellationToken ct)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress };
        var login = new { email = "gateway-bench@example.com", password = "Bench12345" };
        (await client.PostAsJsonAsync("/api/v1/auth/register", login, ct)).EnsureSuccessStatusCode();
        using var session = JsonDocument.Parse(await (await client.PostAsJsonAsync("/api/v1/auth/login", login, ct)).Content.ReadAsStringAsync(ct));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.RootElement.GetProperty("data").GetProperty("accessToken").GetString());
        var created = await client.PostAsJsonAsync("/api/v1/user/api-keys", new { name = "bench", scopes = new[] { "models:use" }, rateLimitPerMinute = 10_000_000 }, ct);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException("key creation failed: " + await created.Content.ReadAsStringAsync(ct));
        }

        using var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct));
        return key.RootElement.GetProperty("data").GetProperty("key").GetString()!;
    }

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
}

/// <summary>CPU time (user + system) the gateway and this process spend in a scenario's measured window.</summary>
internal static class CpuWindow
{
    // Linux reports /proc times in clock ticks of USER_HZ, 100 on every platform .NET runs on.
    private const double TicksPerSecond = 100;

    public static async Task<(TimeSpan Gateway, TimeSpan Bench)> MeasureAsync(int gatewayPid, TimeSpan warmup, TimeSpan duration, CancellationToken ct)
    {
        await Task.Delay(warmup, ct);
        var (gateway0, bench0) = (Read(gatewayPid), Read(Environment.ProcessId));
        await Task.Delay(duration, ct);
        var (gateway1, bench1) = (Read(gatewayPid), Read(Environment.ProcessId));
        return (gateway1 - gateway0, bench1 - bench0);
    }

    /// <summary>The CPU time process <paramref name="pid"/> has used so far (user and system).</summary>
    public static TimeSpan Read(int pid)
    {
        // Fields after the command name (which may hold spaces, hence the last ')'): state is the first, utime the 12th, stime the 13th.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
