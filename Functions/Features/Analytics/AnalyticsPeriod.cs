using System.Globalization;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Analytics;

/// <summary>Bucket sizes of a time series or a time group-by.</summary>
internal enum Interval
{
    Hour,
    Day,
    Week,
}

/// <summary>
/// The period an analytics request asks about: <c>from</c> (default: <c>to</c> minus the default span) and <c>to</c>
/// (default: now), and the time zone (<c>tz</c>, IANA or Windows id; default UTC) whose local midnights and Mondays
/// delimit day and week buckets. Cells are kept per UTC hour, so zones whose offset is not a whole number of hours are
/// refused rather than answered with shifted edges.
/// </summary>
internal sealed record AnalyticsPeriod(DateTimeOffset From, DateTimeOffset To, TimeZoneInfo Zone)
{
    public const int MaxBuckets = 2000;
    private static readonly TimeSpan MaxSpan = TimeSpan.FromDays(400);

    public static (AnalyticsPeriod? Period, ErrorResult? Error) Parse(HttpRequest request, TimeProvider time, TimeSpan defaultSpan)
    {
        var q = request.Query;
        var check = new Validator();
        var to = UsageTime(q["to"], "to", check) ?? time.GetUtcNow();
        var from = UsageTime(q["from"], "from", check) ?? to - defaultSpan;
        var zone = TimeZoneInfo.Utc;
        var tz = q["tz"].ToString();
        if (tz.Length > 0)
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(tz, out var found))
            {
                check.Add("tz", $"Unknown time zone '{tz}': use an IANA id such as Europe/Berlin, or UTC.");
            }
            else if (!WholeHours(found))
            {
                check.Add("tz", $"Time zone '{tz}' is offset from UTC by a fraction of an hour; analytics buckets are whole UTC hours, so it cannot delimit days exactly.");
            }
            else
            {
                zone = found;
            }
        }

        check.When(check.IsValid && to <= from, "from", "from must be before to.")
            .When(check.IsValid && to - from > MaxSpan, "from", $"The period may span at most {MaxSpan.TotalDays:0} days.");
        return check.IsValid ? (new AnalyticsPeriod(from, to, zone), null) : (null, check.ToResult());
    }

    public static (Interval? Interval, ErrorResult? Error) ParseInterval(string? raw, string field)
    {
        Interval? interval = raw switch
        {
            "1h" or "hour" => Interval.Hour,
            "1d" or "day" => Interval.Day,
            "1w" or "week" => Interval.Week,
            _ => null,
        };
        return interval is null ? (null, Api.Validation(field, $"{field} must be 1h, 1d or 1w.")) : (interval, null);
    }

    /// <summary>The local start (as an offset time in <see cref="Zone"/>) of every bucket that overlaps the period, oldest first.</summary>
    public IReadOnlyList<DateTimeOffset>? Buckets(Interval interval)
    {
        var starts = new List<DateTimeOffset>();
        var current = BucketOf(From, interval);
        while (current < To)
        {
            starts.Add(current);
            if (starts.Count > MaxBuckets)
            {
                return null;
            }

            current = Next(current, interval);
        }

        return starts;
    }

    /// <summary>The start of the bucket holding <paramref name="at"/>, in the period's zone.</summary>
    public DateTimeOffset BucketOf(DateTimeOffset at, Interval interval)
    {
        var local = TimeZoneInfo.ConvertTime(at, Zone);
        return interval switch
        {
            Interval.Hour => new DateTimeOffset(local.Year, local.Month, local.Day, local.Hour, 0, 0, local.Offset),
            Interval.Day => LocalMidnight(local.Date),
            _ => LocalMidnight(local.Date.AddDays(-(((int)local.DayOfWeek + 6) % 7))),
        };
    }

    /// <summary>Whether the rows of UTC days map onto the buckets unchanged (UTC days or weeks), so day rows can be read instead of hour rows.</summary>
    public bool UtcDays => Zone.Equals(TimeZoneInfo.Utc) || (Zone.BaseUtcOffset == TimeSpan.Zero && !Zone.SupportsDaylightSavingTime);

    private DateTimeOffset Next(DateTimeOffset start, Interval interval) => interval switch
    {
        Interval.Hour => TimeZoneInfo.ConvertTime(start.ToUniversalTime().AddHours(1), Zone),
        Interval.Day => LocalMidnight(start.Date.AddDays(1)),
        _ => LocalMidnight(start.Date.AddDays(7)),
    };

    private DateTimeOffset LocalMidnight(DateTime date)
    {
        var local = DateTime.SpecifyKind(date, DateTimeKind.Unspecified);
        // A zone whose clocks skip midnight starts that day at the first hour that exists.
        while (Zone.IsInvalidTime(local))
        {
            local = local.AddHours(1);
        }

        return new DateTimeOffset(local, Zone.GetUtcOffset(local));
    }

    // Only rules in force since 1970 count: most zones began on local mean time (New York's was UTC-4:56:02 until 1883).
    private static bool WholeHours(TimeZoneInfo zone) =>
        zone.BaseUtcOffset.Ticks % TimeSpan.TicksPerHour == 0
        && zone.GetAdjustmentRules().Where(r => r.DateEnd.Year >= 1970)
            .All(r => r.DaylightDelta.Ticks % TimeSpan.TicksPerHour == 0 && r.BaseUtcOffsetDelta.Ticks % TimeSpan.TicksPerHour == 0);

    private static DateTimeOffset? UsageTime(string? raw, string field, Validator check)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        check.Add(field, $"{field} must be an ISO 8601 date or time.");
        return null;
    }
}

/// <summary>Reads roll-up cells for a period and groups them into time buckets or dimension values.</summary>
internal sealed class AnalyticsReader(AnalyticsRollups rollups)
{
    /// <summary>Cells of <paramref name="dimension"/> over the period (whole hours), summed per dimension value.</summary>
    public async Task<Dictionary<string, RollupCell>> ByValueAsync(string partition, string dimension, AnalyticsPeriod period, CancellationToken cancellationToken)
    {
        var rows = await rollups.ReadPeriodAsync(partition, dimension, period.From, period.To, cancellationToken);
        var sums = new Dictionary<string, RollupCell>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!sums.TryGetValue(row.Value, out var sum))
            {
                sums[row.Value] = sum = new RollupCell { Value = row.Value };
            }

            sum.Merge(row.Cell);
        }

        // A value whose rows in the period were all taken out again (a day row less its hours outside) had nothing in it.
        foreach (var value in sums.Where(s => s.Value.IsEmpty).Select(s => s.Key).ToList())
        {
            sums.Remove(value);
        }

        return sums;
    }

    /// <summary>The period's total (dimension <c>all</c>).</summary>
    public async Task<RollupCell> TotalAsync(string partition, AnalyticsPeriod period, CancellationToken cancellationToken) =>
        (await ByValueAsync(partition, Dimensions.All, period, cancellationToken)).GetValueOrDefault("") ?? new RollupCell();

    /// <summary>
    /// Cells of <paramref name="dimension"/> (only <paramref name="value"/>'s when given) summed per bucket of
    /// <paramref name="interval"/> in the period's zone; every bucket of the period is present, empty ones as empty cells.
    /// Null when the period holds more than <see cref="AnalyticsPeriod.MaxBuckets"/> buckets. Only the latency histograms
    /// <paramref name="keep"/> names are summed (unpacking a histogram costs more than the rest of a cell).
    /// </summary>
    public async Task<List<(DateTimeOffset Start, RollupCell Cell)>?> SeriesAsync(
        string partition, string dimension, string? value, AnalyticsPeriod period, Interval interval, CancellationToken cancellationToken,
        Latencies keep = Latencies.All)
    {
        if (period.Buckets(interval) is not { } starts)
        {
            return null;
        }

        var series = starts.Select(s => (Start: s, Cell: new RollupCell())).ToList();
        var index = new Dictionary<DateTimeOffset, int>();
        for (var i = 0; i < series.Count; i++)
        {
            index[series[i].Start] = i;
        }

        var granularity = interval != Interval.Hour && period.UtcDays ? Granularity.Day : Granularity.Hour;
        var rows = value is null
            ? await rollups.ReadAsync(partition, dimension, granularity, starts[0], period.To, cancellationToken)
            : await rollups.ReadValueAsync(partition, dimension, value, granularity, starts[0], period.To, cancellationToken);
        foreach (var row in rows)
        {
            if (index.TryGetValue(period.BucketOf(row.Start, interval), out var at))
            {
                series[at].Cell.Merge(row.Cell, keep);
            }
        }

        return series;
    }
}
