using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Serverless.Benchmarks;

internal sealed record BenchmarkRun(
    BenchmarkOptions Options,
    IReadOnlyList<ScenarioResult> Results,
    IReadOnlyList<TimeSpan> StartTimes,
    double IdleRssMb,
    double PeakRssMb);

/// <summary>Renders one run as markdown, with the targets it is judged against.</summary>
internal static class Report
{
    public const string BareScenario = "GET / (bare)";
    public static readonly int[] Connections = [32, 128];

    private const double AuthMinRequestsPerSecond = 5_000;
    private const double AuthMaxP99Ms = 25;
    private const double StartMaxMs = 500;
    private const double IdleRssMaxMb = 150;

    public static string Render(BenchmarkRun run)
    {
        var culture = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void Line(FormattableString text) => sb.Append(text.ToString(culture)).Append('\n');

        Line($"## Benchmark results ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors ({CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSArchitecture}.");
        Line($"Each scenario: {run.Options.Warmup.TotalSeconds:0.#} s warmup, then {run.Options.Duration.TotalSeconds:0.#} s measured; closed-loop HTTP/1.1 keep-alive over loopback, load generator on the same machine. req/s and latencies count 2xx responses only.");
        Line($"");

        var ordered = run.Results.OrderBy(r => ScenarioOrder(run, r.Name)).ThenBy(r => r.Connections).ToList();
        Line($"| scenario | connections | req/s | p50 ms | p99 ms | errors |");
        Line($"|---|---|---|---|---|---|");
        foreach (var r in ordered)
        {
            Line($"| {r.Name} | {r.Connections} | {r.RequestsPerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.Errors} |");
        }

        Line($"");
        var startMs = run.StartTimes.Select(t => t.TotalMilliseconds).ToList();
        var medianStartMs = startMs.Order().ElementAt(startMs.Count / 2);
        var runs = string.Join(", ", startMs.Select(ms => ms.ToString("F0", culture)));
        Line($"| metric | value |");
        Line($"|---|---|");
        Line($"| start → first /health 200 (published dll) | {medianStartMs:F0} ms median (runs: {runs}) |");
        Line($"| idle RSS | {run.IdleRssMb:F1} MB |");
        Line($"| peak RSS under load | {run.PeakRssMb:F1} MB |");

        // Absolute numbers swing with machine noise; the ratio to bare GET / at the same moment is the stable signal.
        Line($"");
        Line($"| authenticated scenario | connections | req/s ÷ bare GET / req/s |");
        Line($"|---|---|---|");
        var authenticated = ordered.Where(r => r.Name != BareScenario).ToList();
        foreach (var r in authenticated)
        {
            var bare = run.Results.Single(b => b.Name == BareScenario && b.Connections == r.Connections);
            var ratio = bare.RequestsPerSecond > 0 ? r.RequestsPerSecond / bare.RequestsPerSecond : 0;
            Line($"| {r.Name} | {r.Connections} | {ratio:F2} |");
        }

        Line($"");
        Line($"| target | measured | result |");
        Line($"|---|---|---|");
        foreach (var r in authenticated)
        {
            // Errors fail the target too: throughput of rejected requests says nothing about authenticated reads.
            var pass = r.RequestsPerSecond >= AuthMinRequestsPerSecond && r.P99Ms <= AuthMaxP99Ms && r.Errors == 0;
            Line($"| {r.Name} @ {r.Connections}: ≥ {AuthMinRequestsPerSecond:N0} req/s at p99 ≤ {AuthMaxP99Ms:0} ms, no errors | {r.RequestsPerSecond:N0} req/s, p99 {r.P99Ms:F2} ms, {r.Errors} errors | {Verdict(pass)} |");
        }

        Line($"| start → first 200 ≤ {StartMaxMs:0} ms | {medianStartMs:F0} ms (median) | {Verdict(medianStartMs <= StartMaxMs)} |");
        Line($"| idle RSS ≤ {IdleRssMaxMb:0} MB | {run.IdleRssMb:F1} MB | {Verdict(run.IdleRssMb <= IdleRssMaxMb)} |");
        return sb.ToString();
    }

    private static int ScenarioOrder(BenchmarkRun run, string name) =>
        run.Results.Select(r => r.Name).Distinct().ToList().IndexOf(name);

    private static string Verdict(bool pass) => pass ? "PASS" : "FAIL";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }
}
