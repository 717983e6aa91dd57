using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// <c>--suite table-scan</c>: does a key-range query over one small partition slow down as <em>other</em> partitions of
/// the same table grow? It answers, at the port, the question the lists suite left open on Azurite: whether the lists'
/// growth comes from our adapter's query or from the store evaluating a partition-and-row-key range over the whole
/// table. The measured query is what a list's first page is (<c>PartitionKey eq p and RowKey ge a and RowKey lt b</c>,
/// 21 rows of a 200-row partition), and a point read of the same partition is the control. Rows are written in batches
/// of 100 (one partition each), so the table reaches tens of thousands of rows quickly.
/// </summary>
internal static class TableScanSuite
{
    private const int Measured = 60;
    private const int Warmup = 5;
    private const int SmallPartitionRows = 200;
    private const int OtherPartitionRows = 1_000;
    private static readonly int[] OtherRowCounts = [0, 10_000, 30_000, 100_000, 300_000];

    public static async Task<string> RunAsync(BenchmarkOptions options, string workDir, Action<string> log, CancellationToken ct)
    {
        await using var azurite = await Azurite.StartAsync(ct);
        await using var sqlite = Adapters(new Dictionary<string, string?> { ["Storage:DataDirectory"] = Path.Combine(workDir, "scan-data") });
        await using var azure = Adapters(new Dictionary<string, string?> { ["Storage:Provider"] = "AzureStorage", ["Storage:ConnectionString"] = azurite.ConnectionString });

        var rows = new List<string>();
        foreach (var (name, adapters) in new[] { ("SQLite", sqlite), ("Azurite", azure) })
        foreach (var samePartition in new[] { false, true })
        {
            var store = adapters.GetRequiredService<IEntityStore>();
            var table = samePartition ? "scanprobesame" : "scanprobeother";
            var document = "{\"name\":\"probe\",\"payload\":\"" + new string('x', 400) + "\"}";
            await WriteAsync(store, table, "small", 0, SmallPartitionRows, document, ct);
            var written = 0;
            foreach (var others in OtherRowCounts)
            {
                for (; written < others; written += 100)
                {
                    await WriteAsync(
                        store, table, samePartition ? "small" : "other" + (written / OtherPartitionRows).ToString("D4", CultureInfo.InvariantCulture),
                        (samePartition ? SmallPartitionRows + written : written % OtherPartitionRows), 100, document, ct);
                }

                var range = await TimeAsync(async () =>
                {
                    var page = await store.QueryAsync(table, new EntityQuery { PartitionKey = "small", RowKeyFrom = Key(50), RowKeyTo = Key(150), Take = 21 }, ct);
                    if (page.Items.Count != 21)
                    {
                        throw new InvalidOperationException($"range query returned {page.Items.Count} rows, expected 21");
                    }
                }, ct);
                var point = await TimeAsync(async () =>
                {
                    _ = await store.GetAsync(table, "small", Key(77), ct) ?? throw new InvalidOperationException("point read found nothing");
                }, ct);
                var line = $"| {name} | {(samePartition ? "same partition, after the range" : "other partitions")} | {others:N0} | {SmallPartitionRows + others:N0} | {range.P50:F2} | {range.P99:F2} | {point.P50:F2} | {point.P99:F2} |";
                log(line);
                rows.Add(line);
            }
        }

        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"### table-scan ({DateTimeOffset.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, {Measured} calls each)")
            .AppendLine()
            .AppendLine("| store | where the other rows are | other rows | rows in table | range p50 ms | range p99 ms | point read p50 ms | point read p99 ms |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(row => report.AppendLine(row));
        return report.ToString();
    }

    private static string Key(int i) => "row" + i.ToString("D6", CultureInfo.InvariantCulture);

    private static async Task WriteAsync(IEntityStore store, string table, string partition, int first, int count, string document, CancellationToken ct)
    {
        for (var start = first; start < first + count; start += EntityBatch.MaxWrites)
        {
            var writes = Enumerable.Range(start, Math.Min(EntityBatch.MaxWrites, first + count - start)).Select(i => BatchWrite.Upsert(Key(i), document)).ToList();
            var result = await store.SubmitBatchAsync(table, partition, writes, ct);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"batch into {partition} failed: {result.Status}");
            }
        }
    }

    private static async Task<(double P50, double P99)> TimeAsync(Func<Task> call, CancellationToken ct)
    {
        for (var i = 0; i < Warmup; i++)
        {
            await call();
        }

        var latencies = new double[Measured];
        for (var i = 0; i < Measured; i++)
        {
            ct.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            await call();
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(latencies);
        return (StorageBenchmark.Percentile(latencies, 0.5), StorageBenchmark.Percentile(latencies, 0.99));
    }

    private static ServiceProvider Adapters(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddStorage(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider();
    }
}
