using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Serverless.Benchmarks;

/// <summary>
/// Plugin execution against the fake plugin (an http plugin that answers at once), at a few concurrent clients: the
/// request the platform sends, posted straight to the plugin, then the same execution through
/// <c>POST /api/v1/plugins/{id}/execute</c> (API key, input and output checked against their schemas, the capability
/// and private-network checks, one execution row written), then a built-in (calculator, no network) for the
/// platform's cost without the hop. The difference to direct is the overhead.
/// </summary>
internal static class PluginsSuite
{
    private const int Connections = 8;

    public static Task<int> RunAsync(BenchmarkOptions options, CancellationToken ct) =>
        SuiteRun.WithAppAsync("plugins", options, _ => new Dictionary<string, string>
        {
            ["Plugins__AllowedPrivateHosts"] = "127.0.0.1",
            ["RateLimits__ExecutePerMinute"] = "10000000",
            ["RateLimits__GeneralPerMinute"] = "10000000",
        }, async (upstream, server) =>
        {
            var direct = new Uri(upstream.BaseUrl, "plugin/echo");
            var key = await InstallAsync(server.BaseAddress, direct, ct);
            var directBody = Encoding.UTF8.GetBytes(
                "{\"input\":{\"text\":\"hello\"},\"config\":{},\"context\":{\"pluginId\":\"bench-echo\",\"executionId\":\"pex_bench\",\"workspaceId\":\"ws_bench\"}}");
            var executeBody = Encoding.UTF8.GetBytes("{\"input\":{\"text\":\"hello\"}}");
            var calculatorBody = Encoding.UTF8.GetBytes("{\"input\":{\"expression\":\"2*(3+4)^2\"}}");
            PostScenario[] scenarios =
            [
                new("direct: POST to the plugin", direct, directBody, null, false),
                new("platform: execute the http plugin", new Uri(server.BaseAddress, "/api/v1/plugins/bench-echo/execute"), executeBody, key, false),
                new("platform: execute a built-in (calculator)", new Uri(server.BaseAddress, "/api/v1/plugins/calculator/execute"), calculatorBody, key, false),
            ];

            Log("warming up");
            foreach (var scenario in scenarios)
            {
                await HttpLoad.RunAsync(scenario, Connections, TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(1), ct);
            }

            var results = new List<PostScenarioResult>();
            foreach (var scenario in scenarios)
            {
                Log($"running {scenario.Name} @ {Connections} connections");
                var result = await HttpLoad.RunAsync(scenario, Connections, options.Warmup, options.Duration, ct);
                Log($"  {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms, errors {result.Errors}");
                results.Add(result);
            }

            await RunFiles.WriteReportAsync(Render(options, results, server.ReadRssMegabytes()), options, ct);
            return results.Any(r => r.Errors > 0) ? 1 : 0;
        }, ct);

    private static string Render(BenchmarkOptions options, IReadOnlyList<PostScenarioResult> results, double rssMb)
    {
        var culture = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void Line(FormattableString text) => sb.Append(text.ToString(culture)).Append('\n');
        var direct = results[0];
        Line($"## Plugins benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; load average at the end {SuiteRun.LoadAverage()}.");
        Line($"{Connections} closed-loop clients over loopback keep-alive, {options.Warmup.TotalSeconds:0.#} s warmup + {options.Duration.TotalSeconds:0.#} s measured per row, after 3 s of warm-up traffic on each path. Published app on the embedded SQLite store; the fake plugin answers at once.");
        Line($"");
        Line($"| scenario | req/s | p50 ms | p99 ms | added p50 vs direct ms | errors |");
        Line($"|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Line($"| {r.Name} | {r.RequestsPerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {(r == direct ? "–" : (r.P50Ms - direct.P50Ms).ToString("F2", culture))} | {r.Errors} |");
        }

        Line($"");
        Line($"App RSS after the run: {rssMb:F1} MB.");
        return sb.ToString();
    }

    /// <summary>A user with an API key (plugins:execute) and the fake plugin installed in its workspace.</summary>
    private static async Task<string> InstallAsync(Uri baseAddress, Uri pluginUrl, CancellationToken ct)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress };
        var login = new { email = "plugins-bench@example.com", password = "Bench12345" };
        (await client.PostAsJsonAsync("/api/v1/auth/register", login, ct)).EnsureSuccessStatusCode();
        using var session = JsonDocument.Parse(await (await client.PostAsJsonAsync("/api/v1/auth/login", login, ct)).Content.ReadAsStringAsync(ct));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.RootElement.GetProperty("data").GetProperty("accessToken").GetString());
        var manifest = new
        {
            id = "bench-echo",
            name = "Bench echo",
            version = "1.0.0",
            runtime = new { kind = "http", url = pluginUrl.ToString() },
            capabilities = new { network = new[] { pluginUrl.Host } },
            inputSchema = new { type = "object", required = new[] { "text" }, properties = new { text = new { type = "string" } } },
            outputSchema = new { type = "object", required = new[] { "echo" } },
        };
        var installed = await client.PostAsJsonAsync("/api/v1/plugins", new { manifest }, ct);
        if (installed.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException("plugin install failed: " + await installed.Content.ReadAsStringAsync(ct));
        }

        var created = await client.PostAsJsonAsync("/api/v1/user/api-keys", new { name = "bench", scopes = new[] { "plugins:execute" }, rateLimitPerMinute = 10_000_000 }, ct);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException("key creation failed: " + await created.Content.ReadAsStringAsync(ct));
        }

        using var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct));
        return key.RootElement.GetProperty("data").GetProperty("key").GetString()!;
    }

    private static void Log(string message) => Console.Error.WriteLine($"[bench] {message}");
}
