using System.Diagnostics;
using System.Net.Http.Headers;

namespace Serverless.Benchmarks;

internal sealed record PostScenario(string Name, Uri Uri, byte[] Body, string? BearerToken, bool Stream);

internal sealed record PostScenarioResult(
    string Name, int Connections, double RequestsPerSecond, double P50Ms, double P99Ms, double FirstTokenP50Ms, double FirstTokenP99Ms, long Errors);

/// <summary>
/// Closed-loop load: N workers, each with one request in flight over its own keep-alive connection, timing each request to its last byte and, for streams,
/// to the first SSE data event (time to first token as a client sees it).
/// </summary>
internal static class HttpLoad
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static Task<PostScenarioResult> RunAsync(PostScenario scenario, int connections, TimeSpan warmup, TimeSpan duration, CancellationToken ct) =>
        RunAsync(scenario.Name, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, scenario.Uri) { Content = new ByteArrayContent(scenario.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (scenario.BearerToken is { } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            return request;
        }, scenario.Stream, connections, warmup, duration, ct);

    /// <summary>The load loop for any request: <paramref name="newRequest"/> builds each one.</summary>
    public static async Task<PostScenarioResult> RunAsync(
        string name, Func<HttpRequestMessage> newRequest, bool stream, int connections, TimeSpan warmup, TimeSpan duration, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
        };
        using var client = new HttpClient(handler) { Timeout = RequestTimeout };
        var measureStart = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        var workers = new Task<Worker>[connections];
        for (var i = 0; i < connections; i++)
        {
            workers[i] = Task.Run(() => RunWorkerAsync(client, newRequest, stream, measureStart, measureEnd, ct), ct);
        }

        var results = await Task.WhenAll(workers);
        var latencies = results.SelectMany(r => r.Latencies).Order().ToArray();
        var firstTokens = results.SelectMany(r => r.FirstTokens).Order().ToArray();
        return new PostScenarioResult(name, connections, latencies.Length / duration.TotalSeconds,
            Ms(Percentile(latencies, 0.5)), Ms(Percentile(latencies, 0.99)), Ms(Percentile(firstTokens, 0.5)), Ms(Percentile(firstTokens, 0.99)),
            results.Sum(r => r.Errors));
    }

    private static async Task<Worker> RunWorkerAsync(
        HttpClient client, Func<HttpRequestMessage> newRequest, bool stream, long measureStart, long measureEnd, CancellationToken ct)
    {
        var worker = new Worker();
        var buffer = new byte[16 * 1024];
        while (Stopwatch.GetTimestamp() < measureEnd)
        {
            var start = Stopwatch.GetTimestamp();
            long firstToken = 0;
            bool succeeded;
            try
            {
                using var request = newRequest();
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                int read;
                while ((read = await body.ReadAsync(buffer, ct)) > 0)
                {
                    // The first read that carries an SSE data event is the first token the client can show.
                    if (firstToken == 0 && stream && buffer.AsSpan(0, read).IndexOf("data:"u8) >= 0)
                    {
                        firstToken = Stopwatch.GetTimestamp();
                    }
                }

                succeeded = response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                succeeded = false;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                succeeded = false;
            }

            var end = Stopwatch.GetTimestamp();
            if (end < measureStart || end >= measureEnd)
            {
                continue;
            }

            if (succeeded)
            {
                worker.Latencies.Add(end - start);
                if (firstToken != 0)
                {
                    worker.FirstTokens.Add(firstToken - start);
                }
            }
            else
            {
                worker.Errors++;
            }
        }

        return worker;
    }

    private static long Percentile(long[] sorted, double quantile) =>
        sorted.Length == 0 ? 0 : sorted[Math.Max(0, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private sealed class Worker
    {
        public List<long> Latencies { get; } = new(1 << 14);
        public List<long> FirstTokens { get; } = new(1 << 14);
        public long Errors { get; set; }
    }
}
