using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Functions.Platform.Analytics;

/// <summary>
/// Latencies (milliseconds) counted in log-spaced buckets, each 4 % wider than the one below, so a percentile over any
/// number of calls costs the same to keep and to read, and lands within 2 % of the exact nearest-rank value (the
/// bucket's geometric middle). Buckets merge by addition, which is what makes roll-ups of roll-ups possible.
/// </summary>
/// <remarks>
/// Stored as <c>{"count","sum","packed"}</c>: the occupied buckets packed into one base64 string, so a read that only
/// wants counts, costs or means passes over it as one JSON token. Buckets are unpacked only when a percentile asks for
/// them; merging histograms read from the store keeps their packed forms and adds only <see cref="Count"/> and
/// <see cref="Sum"/>. Rows written before the packing hold <c>"buckets"</c> as a JSON object; both read alike.
/// </remarks>
[JsonConverter(typeof(LatencyHistogramJsonConverter))]
internal sealed class LatencyHistogram
{
    private const double Growth = 1.04;
    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>Count per bucket index, dense. Bucket 0 holds [0, 1) ms; bucket i ≥ 1 holds [1.04^(i-1), 1.04^i).</summary>
    private long[] _counts = [];

    /// <summary>Packed bucket counts merged in but not yet added to <see cref="_counts"/>.</summary>
    private List<string>? _packed;

    public long Count { get; private set; }

    /// <summary>Exact sum, so means are exact.</summary>
    public double Sum { get; private set; }

    public double? Mean => Count == 0 ? null : Sum / Count;

    public static int BucketOf(double milliseconds) =>
        milliseconds < 1 ? 0 : 1 + (int)Math.Floor(Math.Log(milliseconds) / LogGrowth);

    /// <summary>The value a bucket reports: the geometric middle of its bounds.</summary>
    public static double ValueOf(int bucket) => bucket == 0 ? 0.5 : Math.Pow(Growth, bucket - 0.5);

    public void Add(double milliseconds)
    {
        var value = Math.Max(0, milliseconds);
        AddTo(BucketOf(value), 1);
        Count++;
        Sum += value;
    }

    public void Merge(LatencyHistogram other)
    {
        if (other._packed is { } packed)
        {
            (_packed ??= []).AddRange(packed);
        }

        for (var bucket = other._counts.Length - 1; bucket >= 0; bucket--)
        {
            if (other._counts[bucket] != 0)
            {
                AddTo(bucket, other._counts[bucket]);
            }
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

        var counts = Unpacked();
        var rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * Count));
        long seen = 0;
        var last = 0;
        for (var bucket = 0; bucket < counts.Length; bucket++)
        {
            if (counts[bucket] == 0)
            {
                continue;
            }

            last = bucket;
            seen += counts[bucket];
            if (seen >= rank)
            {
                return ValueOf(bucket);
            }
        }

        return ValueOf(last);
    }

    /// <summary>The occupied buckets, lowest first.</summary>
    public IEnumerable<(int Bucket, long Count)> Occupied()
    {
        var counts = Unpacked();
        for (var bucket = 0; bucket < counts.Length; bucket++)
        {
            if (counts[bucket] != 0)
            {
                yield return (bucket, counts[bucket]);
            }
        }
    }

    /// <summary>A histogram that takes this one out again when merged (counts and sum negated).</summary>
    public LatencyHistogram Negated()
    {
        var counts = Unpacked();
        var negated = new LatencyHistogram { Count = -Count, Sum = -Sum, _counts = new long[counts.Length] };
        for (var bucket = 0; bucket < counts.Length; bucket++)
        {
            negated._counts[bucket] = -counts[bucket];
        }

        return negated;
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

    /// <summary>The occupied buckets as (gap from the previous occupied bucket + 1, count) varint pairs, base64.</summary>
    internal string Pack()
    {
        var counts = Unpacked();
        var buffer = new ArrayBufferWriter<byte>(64);
        var previous = -1;
        for (var bucket = 0; bucket < counts.Length; bucket++)
        {
            if (counts[bucket] == 0)
            {
                continue;
            }

            if (counts[bucket] < 0)
            {
                throw new InvalidOperationException($"Bucket {bucket} holds a negative count.");
            }

            WriteVarint(buffer, (ulong)(bucket - previous));
            WriteVarint(buffer, (ulong)counts[bucket]);
            previous = bucket;
        }

        return Convert.ToBase64String(buffer.WrittenSpan);
    }

    /// <summary>A histogram read from the store: its totals now, its buckets when first asked for.</summary>
    internal static LatencyHistogram FromStore(long count, double sum, string? packed, List<(int Bucket, long Count)>? legacy)
    {
        var histogram = new LatencyHistogram { Count = count, Sum = sum };
        if (!string.IsNullOrEmpty(packed))
        {
            histogram._packed = [packed];
        }

        foreach (var (bucket, n) in legacy ?? [])
        {
            histogram.AddTo(bucket, n);
        }

        return histogram;
    }

    private long[] Unpacked()
    {
        if (_packed is { } packed)
        {
            _packed = null;
            foreach (var part in packed)
            {
                Unpack(part);
            }
        }

        return _counts;
    }

    private void Unpack(string part)
    {
        var bytes = Convert.FromBase64String(part);
        var at = 0;
        var bucket = -1;
        while (at < bytes.Length)
        {
            bucket += checked((int)ReadVarint(bytes, ref at));
            AddTo(bucket, checked((long)ReadVarint(bytes, ref at)));
        }
    }

    private void AddTo(int bucket, long count)
    {
        if (bucket >= _counts.Length)
        {
            Array.Resize(ref _counts, Math.Max(bucket + 1, Math.Min(2 * _counts.Length, 4096)));
        }

        _counts[bucket] += count;
    }

    private static void WriteVarint(ArrayBufferWriter<byte> buffer, ulong value)
    {
        var span = buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        buffer.Advance(i);
    }

    private static ulong ReadVarint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new FormatException("A packed latency histogram holds an overlong number.");
    }
}

/// <summary>Reads both stored forms of <see cref="LatencyHistogram"/> (packed, and the earlier bucket object) and writes the packed one.</summary>
internal sealed class LatencyHistogramJsonConverter : JsonConverter<LatencyHistogram>
{
    public override LatencyHistogram Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A latency histogram is a JSON object.");
        }

        long count = 0;
        double sum = 0;
        string? packed = null;
        List<(int, long)>? legacy = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("count"u8))
            {
                reader.Read();
                count = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("sum"u8))
            {
                reader.Read();
                sum = reader.GetDouble();
            }
            else if (reader.ValueTextEquals("packed"u8))
            {
                reader.Read();
                packed = reader.GetString();
            }
            else if (reader.ValueTextEquals("buckets"u8))
            {
                reader.Read();
                legacy = ReadLegacyBuckets(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return LatencyHistogram.FromStore(count, sum, packed, legacy);
    }

    public override void Write(Utf8JsonWriter writer, LatencyHistogram value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber("count"u8, value.Count);
        writer.WriteNumber("sum"u8, value.Sum);
        writer.WriteString("packed"u8, value.Pack());
        writer.WriteEndObject();
    }

    // {"12":3,"40":1}: bucket index → count.
    private static List<(int, long)> ReadLegacyBuckets(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A latency histogram's buckets are a JSON object.");
        }

        var buckets = new List<(int, long)>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            ReadOnlySpan<byte> name = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
            if (!Utf8Parser.TryParse(name, out int bucket, out var used) || used != name.Length || bucket < 0)
            {
                throw new JsonException("A latency bucket's index is not a number.");
            }

            reader.Read();
            buckets.Add((bucket, reader.GetInt64()));
        }

        return buckets;
    }
}
