using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;
using Serverless.Testing;

namespace Serverless.Benchmarks;

internal sealed record OperationResult(string Operation, double SqliteP50Ms, double SqliteP99Ms, double AzureP50Ms, double AzureP99Ms);

/// <summary>
/// <c>--suite storage</c>: the latency of each port operation on the Azure adapters (against Azurite on this machine) next
/// to the SQLite adapters, one call at a time, and the published app's start → first 200 as the Functions host
/// starts it. Both adapters are wired by <see cref="StorageSetup.AddStorage"/>, as in the app.
/// </summary>
internal static class StorageBenchmark
{
    private const int Warmup = 30;
    private const int StartRuns = 3;

    public static async Task<string> RunAsync(BenchmarkOptions options, string workDir, Action<string> log, CancellationToken ct)
    {
        var appDir = options.AppDir ?? await Publisher.PublishAsync(Path.Combine(workDir, "app"), ct);
        await using var azurite = await Azurite.StartAsync(ct);
        log($"azurite listening after {azurite.StartTime.TotalMilliseconds:F0} ms");

        var starts = new List<(string Provider, List<double> Ms)>();
        foreach (var (provider, settings) in new[]
        {
            ("Sqlite", new Dictionary<string, string> { ["Storage__DataDirectory"] = Path.Combine(workDir, "start-data") }),
            ("AzureStorage (Azurite)", new Dictionary<string, string> { ["Storage__Provider"] = "AzureStorage", ["Storage__ConnectionString"] = azurite.ConnectionString }),
        })
        {
            var runs = new List<double>();
            for (var run = 0; run < StartRuns; run++)
            {
                await using var server = ServerProcess.StartPackageStandalone(appDir, settings);
                runs.Add((await server.WaitUntilHealthyAsync(ct)).TotalMilliseconds);
            }

            log($"start → first 200 ({provider}): {string.Join(", ", runs.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))} ms");
            starts.Add((provider, runs));
        }

        await using var sqlite = Adapters(new Dictionary<string, string?> { ["Storage:DataDirectory"] = Path.Combine(workDir, "bench-data") });
        await using var azure = Adapters(new Dictionary<string, string?> { ["Storage:Provider"] = "AzureStorage", ["Storage:ConnectionString"] = azurite.ConnectionString });
        var results = new List<OperationResult>();
        foreach (var operation in Operations())
        {
            // The two adapters run back to back so that machine noise hits both alike.
            var sqliteMs = await MeasureAsync(operation, sqlite, options.Iterations, ct);
            var azureMs = await MeasureAsync(operation, azure, options.Iterations, ct);
            var result = new OperationResult(operation.Name, Percentile(sqliteMs, 0.5), Percentile(sqliteMs, 0.99), Percentile(azureMs, 0.5), Percentile(azureMs, 0.99));
            log($"{operation.Name}: sqlite p50 {result.SqliteP50Ms:F2} ms, azure p50 {result.AzureP50Ms:F2} ms");
            results.Add(result);
        }

        return Render(options, azurite.StartTime, starts, results);
    }

    private static ServiceProvider Adapters(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddStorage(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider();
    }

    private static async Task<double[]> MeasureAsync(Operation operation, IServiceProvider adapters, int iterations, CancellationToken ct)
    {
        var context = new OperationContext(adapters, Guid.NewGuid().ToString("N")[..12]);
        await operation.SetUpAsync(context, Warmup + iterations, ct);
        for (var i = 0; i < Warmup; i++)
        {
            await operation.RunAsync(context, i, ct);
        }

        var latencies = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await operation.RunAsync(context, Warmup + i, ct);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(latencies);
        return latencies;
    }

    /// <summary>The nearest-rank percentile of an ascending array (the suites that time single calls share it).</summary>
    internal static double Percentile(double[] sorted, double quantile) =>
        sorted[Math.Max(0, (int)Math.Ceiling(quantile * sorted.Length) - 1)];

    /// <summary>Each operation gets names of its own per adapter run, and sets up what its calls need beforehand.</summary>
    private static IEnumerable<Operation> Operations()
    {
        const string small = """{"name":"bench","value":42,"tags":["a","b","c"]}""";
        var large = $$"""{"text":"{{new string('x', 100_000)}}"}""";
        var blob4k = new byte[4 * 1024];
        var blob1m = new byte[1024 * 1024];
        Random.Shared.NextBytes(blob4k);
        Random.Shared.NextBytes(blob1m);

        yield return new("entity insert", null, (c, i, ct) => c.Entities.InsertAsync(c.Table, "p", Row(i), small, ct));
        yield return new("entity get", SeedAsync(small), (c, i, ct) => c.Entities.GetAsync(c.Table, "p", Row(i % 100), ct));
        yield return new("entity upsert", null, (c, i, ct) => c.Entities.UpsertAsync(c.Table, "p", Row(i % 100), small, ct));
        yield return new("entity replace (ETag)", SeedAsync(small), async (c, i, ct) =>
        {
            var row = Row(i % 100);
            var result = await c.Entities.ReplaceAsync(c.Table, "p", row, small, c.ETags[row], ct);
            c.ETags[row] = result.ETag!;
        });
        yield return new("entity query (partition, 50)", SeedAsync(small, 50), (c, _, ct) => c.Entities.QueryAsync(c.Table, new EntityQuery { PartitionKey = "p", Take = 50 }, ct));
        yield return new("entity delete", SeedAsync(small, all: true), (c, i, ct) => c.Entities.DeleteAsync(c.Table, "p", Row(i), null, ct));
        yield return new("entity get (100 KB document)", SeedAsync(large, 10), (c, i, ct) => c.Entities.GetAsync(c.Table, "p", Row(i % 10), ct));
        yield return new("queue enqueue", null, (c, i, ct) => c.Queue.EnqueueAsync(c.QueueName, small, null, ct));
        yield return new("queue dequeue + delete", async (c, count, ct) =>
        {
            for (var i = 0; i < count; i++)
            {
                await c.Queue.EnqueueAsync(c.QueueName, small, null, ct);
            }
        }, async (c, _, ct) =>
        {
            var message = (await c.Queue.DequeueAsync(c.QueueName, 1, TimeSpan.FromMinutes(5), ct))[0];
            await c.Queue.DeleteAsync(c.QueueName, message.Id, message.PopReceipt, ct);
        });
        yield return new("blob upload 4 KiB", null, (c, i, ct) => c.Blobs.UploadAsync(c.Container, Row(i), new MemoryStream(blob4k), null, true, ct));
        yield return new("blob download 4 KiB", async (c, _, ct) => await c.Blobs.UploadAsync(c.Container, "b", new MemoryStream(blob4k), null, true, ct), async (c, _, ct) =>
        {
            await using var download = await c.Blobs.OpenReadAsync(c.Container, "b", ct);
            await download!.Content.CopyToAsync(Stream.Null, ct);
        });
        yield return new("blob get info", async (c, _, ct) => await c.Blobs.UploadAsync(c.Container, "b", new MemoryStream(blob4k), null, true, ct), (c, _, ct) => c.Blobs.GetInfoAsync(c.Container, "b", ct));
        yield return new("blob upload 1 MiB", null, (c, i, ct) => c.Blobs.UploadAsync(c.Container, Row(i % 20), new MemoryStream(blob1m), null, true, ct));
    }

    /// <summary>Writes the rows an operation reads: <paramref name="rows"/> of them, or one per call when <paramref name="all"/>.</summary>
    private static Func<OperationContext, int, CancellationToken, Task> SeedAsync(string json, int rows = 100, bool all = false) => async (c, calls, ct) =>
    {
        for (var i = 0; i < (all ? calls : rows); i++)
        {
            c.ETags[Row(i)] = (await c.Entities.UpsertAsync(c.Table, "p", Row(i), json, ct)).ETag!;
        }
    };

    private static string Row(int i) => i.ToString("D6", CultureInfo.InvariantCulture);

    private static string Render(BenchmarkOptions options, TimeSpan azuriteStart, List<(string Provider, List<double> Ms)> starts, List<OperationResult> results)
    {
        var culture = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void Line(FormattableString text) => sb.Append(text.ToString(culture)).Append('\n');

        Line($"## Storage benchmark ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        Line($"");
        Line($"Machine: {Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}.");
        Line($"Per operation: {Warmup} warmup calls, then {options.Iterations} measured calls, one at a time, in this process. Azure = the AzureStorage adapters (REST over loopback HTTP, Shared Key) against Azurite 3.37.0 in memory on the same machine; SQLite = the embedded adapters (WAL file in a temp directory). Azurite is a local emulator: absolute Azure numbers say little about Azure itself, the ratio says what the REST path costs.");
        Line($"");
        Line($"| operation | SQLite p50 ms | SQLite p99 ms | Azure p50 ms | Azure p99 ms | Azure ÷ SQLite (p50) |");
        Line($"|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Line($"| {r.Operation} | {r.SqliteP50Ms:F3} | {r.SqliteP99Ms:F3} | {r.AzureP50Ms:F3} | {r.AzureP99Ms:F3} | {r.AzureP50Ms / r.SqliteP50Ms:F1}× |");
        }

        Line($"");
        Line($"| published app (isolated-worker package, ReadyToRun, `dotnet Functions.dll` standalone) | start → first /health 200 |");
        Line($"|---|---|");
        foreach (var (provider, ms) in starts)
        {
            var median = ms.Order().ElementAt(ms.Count / 2);
            Line($"| {provider} | {median:F0} ms median (runs: {string.Join(", ", ms.Select(m => m.ToString("F0", culture)))}) |");
        }

        Line($"| Azurite itself (node, three services listening) | {azuriteStart.TotalMilliseconds:F0} ms |");
        return sb.ToString();
    }

    private sealed record Operation(
        string Name, Func<OperationContext, int, CancellationToken, Task>? SetUpAsyncOrNull, Func<OperationContext, int, CancellationToken, Task> RunAsync)
    {
        public Task SetUpAsync(OperationContext context, int calls, CancellationToken ct) => SetUpAsyncOrNull?.Invoke(context, calls, ct) ?? Task.CompletedTask;
    }

    private sealed class OperationContext(IServiceProvider adapters, string suffix)
    {
        public IEntityStore Entities { get; } = adapters.GetRequiredService<IEntityStore>();

        public IWorkQueue Queue { get; } = adapters.GetRequiredService<IWorkQueue>();

        public IBlobStore Blobs { get; } = adapters.GetRequiredService<IBlobStore>();

        public string Table { get; } = "bench" + suffix;

        public string QueueName { get; } = "bench-" + suffix;

        public string Container { get; } = "bench-" + suffix;

        public Dictionary<string, string> ETags { get; } = new(StringComparer.Ordinal);
    }
}
