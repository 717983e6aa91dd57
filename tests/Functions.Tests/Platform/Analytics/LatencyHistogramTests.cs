using System.Text.Json;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Functions.Tests.Platform.Analytics;

public sealed class LatencyHistogramTests
{
    private static readonly double[] Percents = [1, 50, 95, 99, 100];

    [Fact]
    public void Stored_IsPacked_AndReadsBackTheSameBucketsCountSumAndPercentiles()
    {
        var histogram = Of(0.2, 1, 5, 5, 120, 3_000, 86_400_000);

        var json = Serialize(histogram);
        var back = Deserialize(json);

        Assert.Contains("\"packed\":", json, StringComparison.Ordinal);
        Assert.DoesNotContain("buckets", json, StringComparison.Ordinal);
        AssertSame(histogram, back);
    }

    [Fact]
    public void Stored_AsTheEarlierBucketObject_ReadsAsWritten_AndIsPackedWhenWrittenAgain()
    {
        var legacy = Deserialize("""{"buckets":{"0":2,"41":3,"175":1},"count":6,"sum":1234.5}""");

        Assert.Equal([(0, 2L), (41, 3L), (175, 1L)], legacy.Occupied());
        Assert.Equal(6, legacy.Count);
        Assert.Equal(1234.5, legacy.Sum);
        Assert.Equal(LatencyHistogram.ValueOf(41), legacy.Percentile(50));
        var again = Serialize(legacy);
        Assert.Contains("\"packed\":", again, StringComparison.Ordinal);
        Assert.Equal(legacy.Occupied(), Deserialize(again).Occupied());
    }

    [Fact]
    public void Merge_OfStoredHistograms_EqualsOneHistogramOfEveryValue()
    {
        var random = new Random(7);
        var all = new LatencyHistogram();
        var merged = new LatencyHistogram();
        for (var part = 0; part < 20; part++)
        {
            var values = Enumerable.Range(0, 50).Select(_ => random.NextDouble() * 20_000).ToArray();
            foreach (var value in values)
            {
                all.Add(value);
            }

            merged.Merge(Deserialize(Serialize(Of(values))));
        }

        AssertSame(all, merged);
    }

    [Fact]
    public void Negated_WhenMergedIn_TakesTheHistogramOutAgain()
    {
        var kept = Of(3, 40, 40, 900);
        var sum = new LatencyHistogram();
        sum.Merge(Deserialize(Serialize(kept)));
        sum.Merge(Deserialize(Serialize(Of(7, 40, 12_000))));
        sum.Merge(Deserialize(Serialize(Of(7, 40, 12_000))).Negated());

        AssertSame(kept, sum);
    }

    [Fact]
    public void Cell_WrittenByTheEarlierRelease_ReadsItsCountsAndHistograms()
    {
        const string earlier = """
            {"value":"wf_1","requests":3,"errors":1,"promptTokens":30,"completionTokens":12,"costUsd":0.0042,
             "modelLatency":{"buckets":{"120":2,"150":1},"count":3,"sum":9000.5},"runs":2,"runsSucceeded":2,
             "runLatency":{"buckets":{"170":2},"count":2,"sum":1600},"minutesSaved":5}
            """;

        var cell = JsonSerializer.Deserialize<RollupCell>(earlier, EntityTable<RollupCell>.Json)!;

        Assert.Equal(("wf_1", 3L, 1L, 42L, 0.0042m, 2L, 5m), (cell.Value, cell.Requests, cell.Errors, cell.TotalTokens, cell.CostUsd, cell.Runs, cell.MinutesSaved));
        Assert.Equal([(120, 2L), (150, 1L)], cell.ModelLatency!.Occupied());
        Assert.Equal(800, cell.RunLatency!.Mean);
        Assert.Null(cell.FirstToken);
    }

    /// <summary>The same buckets, count, sum (to rounding: sums add up in another order) and percentiles.</summary>
    private static void AssertSame(LatencyHistogram expected, LatencyHistogram actual)
    {
        Assert.Equal(expected.Occupied(), actual.Occupied());
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Sum, actual.Sum, 6);
        Assert.Equal(Percents.Select(expected.Percentile), Percents.Select(actual.Percentile));
    }

    private static LatencyHistogram Of(params double[] milliseconds)
    {
        var histogram = new LatencyHistogram();
        foreach (var value in milliseconds)
        {
            histogram.Add(value);
        }

        return histogram;
    }

    private static string Serialize(LatencyHistogram histogram) => JsonSerializer.Serialize(histogram, EntityTable<RollupCell>.Json);

    private static LatencyHistogram Deserialize(string json) => JsonSerializer.Deserialize<LatencyHistogram>(json, EntityTable<RollupCell>.Json)!;
}
