using System.Text.Json.Serialization;

namespace Serverless.Functions.Platform.Analytics;

/// <summary>
/// Latencies (milliseconds) counted in log-spaced buckets, each 4 % wider than the one below, so a percentile over any
/// number of calls costs the same to keep and to read, and lands within 2 % of the exact nearest-rank value (the
/// bucket's geometric middle). Buckets merge by addition, which is what makes roll-ups of roll-ups possible.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double Growth = 1.04;
    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>Count per bucket index (sparse). Bucket 0 holds [0, 1) ms; bucket i ≥ 1 holds [1.04^(i-1), 1.04^i).</summary>
    public SortedDictionary<int, long> Buckets { get; init; } = [];

    public long Count { get; set; }

    /// <summary>Exact sum, so means are exact.</summary>
    public double Sum { get; set; }

    [JsonIgnore]
    public double? Mean => Count == 0 ? null : Sum / Count;

    public static int BucketOf(double milliseconds) =>
        milliseconds < 1 ? 0 : 1 + (int)Math.Floor(Math.Log(milliseconds) / LogGrowth);

    /// <summary>The value a bucket reports: the geometric middle of its bounds.</summary>
    public static double ValueOf(int bucket) => bucket == 0 ? 0.5 : Math.Pow(Growth, bucket - 0.5);

    public void Add(double milliseconds)
    {
        var value = Math.Max(0, milliseconds);
        var bucket = BucketOf(value);
        Buckets[bucket] = Buckets.GetValueOrDefault(bucket) + 1;
        Count++;
        Sum += value;
    }

    public void Merge(LatencyHistogram other)
    {
        foreach (var (bucket, count) in other.Buckets)
        {
            Buckets[bucket] = Buckets.GetValueOrDefault(bucket) + count;
        }

        Count += other.Count;
        Sum += other.Sum;
    }

    /// <summary>The nearest-rank percentile (the value at rank ⌈p/100 · n⌉), or null when nothing was counted.</summary>
    public double? Percentile(double percent)
    {
        if (Count == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * Count));
        long seen = 0;
        foreach (var (bucket, count) in Buckets)
        {
            seen += count;
            if (seen >= rank)
            {
                return ValueOf(bucket);
            }
        }

        return ValueOf(Buckets.Keys.Last());
    }

    public static LatencyHistogram? Combine(LatencyHistogram? into, LatencyHistogram? other)
    {
        if (other is null || other.Count == 0)
        {
            return into;
        }

        into ??= new LatencyHistogram();
        into.Merge(other);
        return into;
    }
}
