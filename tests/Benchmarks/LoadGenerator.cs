using System.Diagnostics;
using System.Net.Http.Headers;

namespace Serverless.Benchmarks;

internal sealed record Scenario(string Name, string Path, Action<HttpRequestHeaders> ConfigureHeaders);

internal sealed record ScenarioResult(
    string Name, int Connections, double RequestsPerSecond, double P50Ms, double P99Ms, long Errors);

/// <summary>Closed-loop load: N workers, each with one request in flight over its own keep-alive connection.</summary>
internal static class LoadGenerator
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static async Task<ScenarioResult> RunAsync(
        Uri baseAddress, Scenario scenario, int connections, TimeSpan warmup, TimeSpan duration, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
        };
        using var client = new HttpClient(handler) { Timeout = RequestTimeout };
        scenario.ConfigureHeaders(client.DefaultRequestHeaders);
        var uri = new Uri(baseAddress, scenario.Path);

        // One continuous run: warmup requests share the connections with the measured ones but are not counted,
        // so measurement starts on hot connections without a gap in load.
        var measureStart = Stopwatch.GetTimestamp() + ToTimestampTicks(warmup);
        var measureEnd = measureStart + ToTimestampTicks(duration);
        var expectedPerWorker = (int)Math.Min(1 << 20, duration.TotalSeconds * 50_000 / connections);

        var workers = new Task<WorkerResult>[connections];
        for (var i = 0; i < connections; i++)
        {
            workers[i] = Task.Run(
                () => RunWorkerAsync(client, uri, measureStart, measureEnd, expectedPerWorker, ct), ct);
        }

        var results = await Task.WhenAll(workers);

        var latencies = new long[results.Sum(r => r.Latencies.Count)];
        var offset = 0;
        foreach (var result in results)
        {
            result.Latencies.CopyTo(latencies, offset);
            offset += result.Latencies.Count;
        }

        Array.Sort(latencies);
        return new ScenarioResult(
            scenario.Name,
            connections,
            latencies.Length / duration.TotalSeconds,
            ToMilliseconds(Percentile(latencies, 0.50)),
            ToMilliseconds(Percentile(latencies, 0.99)),
            results.Sum(r => r.Errors));
    }

    private static async Task<WorkerResult> RunWorkerAsync(
        HttpClient client, Uri uri, long measureStart, long measureEnd, int expected, CancellationToken ct)
    {
        var latencies = new List<long>(expected);
        long errors = 0;
        var buffer = new byte[16 * 1024];

        while (Stopwatch.GetTimestamp() < measureEnd)
        {
            var start = Stopwatch.GetTimestamp();
            bool succeeded;
            try
            {
                using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct);
                // Draining the body is what returns the connection to the pool for reuse.
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                while (await body.ReadAsync(buffer, ct) > 0)
                {
                }

                succeeded = response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                succeeded = false;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // HttpClient.Timeout expired.
                succeeded = false;
            }

            var end = Stopwatch.GetTimestamp();
            // Counting by completion time inside the window gives throughput without bias from in-flight requests.
            if (end < measureStart || end >= measureEnd)
            {
                continue;
            }

            // Only successes feed req/s and latency, so fast error responses cannot flatter the numbers.
            if (succeeded)
            {
                latencies.Add(end - start);
            }
            else
            {
                errors++;
            }
        }

        return new WorkerResult(latencies, errors);
    }

    // Nearest-rank percentile over an ascending array.
    private static long Percentile(long[] sorted, double quantile) =>
        sorted.Length == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    private static long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static double ToMilliseconds(long timestampTicks) => timestampTicks * 1000.0 / Stopwatch.Frequency;

    private sealed record WorkerResult(List<long> Latencies, long Errors);
}
