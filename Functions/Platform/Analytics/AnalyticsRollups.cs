using System.Globalization;
using Microsoft.Extensions.Caching.Memory;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Analytics;

/// <summary>The dimensions cells are kept for; <see cref="All"/> has one value (empty) per bucket.</summary>
internal static class Dimensions
{
    public const string All = "all";
    public const string Model = "model";
    public const string Provider = "provider";
    public const string App = "app";
    public const string Workflow = "workflow";
    public const string ApiKey = "apiKey";
    public const string User = "user";
    public const string NodeType = "nodeType";
    /// <summary>Only in the platform partition: one value per workspace.</summary>
    public const string Workspace = "workspace";

    /// <summary>
    /// The latency histograms a dimension's cells keep: those a view shows (model latency and time to first token per
    /// model, node latency per node type, run latency in total and per workflow, app and workspace). The others would only
    /// make every row longer to store and to read.
    /// </summary>
    public static Latencies LatenciesOf(string dimension) => dimension switch
    {
        Model => Latencies.Model | Latencies.FirstToken,
        NodeType => Latencies.Node,
        All or Workflow or App or Workspace => Latencies.Run,
        _ => Latencies.None,
    };

    /// <summary>The dimensions whose cells are also kept value first, so one value's series is a range read (metrics and alerts of one workflow).</summary>
    public static bool ValueFirst(string dimension) => dimension == Workflow;
}

/// <summary>Bucket sizes. Five-minute buckets exist for <see cref="Dimensions.All"/> and <see cref="Dimensions.Workflow"/> only (alert windows).</summary>
internal enum Granularity
{
    FiveMinutes,
    Hour,
    Day,
}

/// <summary>One cell read back: its bucket's start (UTC) and size, its dimension value and its sums.</summary>
internal sealed record RollupRow(DateTimeOffset Start, Granularity Granularity, string Value, RollupCell Cell);

/// <summary>
/// Roll-ups of model calls and runs per workspace (and platform-wide), per time bucket and dimension value, so a
/// dashboard over 90 days reads a few hundred rows whatever the history holds. Writers hand deltas over and go on:
/// a background flush merges each bucket's deltas into its row under its ETag (one read and one write per row and
/// flush, however many calls or runs it saw), so neither a model call nor a run waits on analytics.
/// </summary>
/// <remarks>
/// <para>
/// Deltas still in memory when a process dies are lost (at most one flush interval's worth); a run's end that is
/// reported twice (the ending activity runs at least once) is counted twice. Both are rare and only skew
/// statistics; billing reads the usage rows, not these.
/// </para>
/// <para>
/// Row keys: <c>{dimension}|{m5|h|d}|{yyyyMMddHHmm}|{value}</c>, time first, so a period of every value is one range.
/// Cells of <see cref="Dimensions.ValueFirst"/> dimensions are written a second time as
/// <c>{dimension}@|{m5|d}|{value}|{yyyyMMddHHmm}</c>, so a period of one value is one range too; their hour cells are
/// grouped per UTC day, <c>{dimension}@|hd|{value}|{yyyyMMdd0000}</c> holding the day's hours, so a week of one value's
/// hours is 7–8 rows however many of its hours saw a run (each layout has its own marker). Releases before
/// that wrote only the first form, so each partition holds a marker (<c>{dimension}@|since</c>) naming the first
/// bucket its second form is complete from: the first flush of this release into a partition writes it, the next
/// UTC midnight when the partition already held cells of the dimension, else the beginning of time. Reads of one value
/// take the buckets before it from the first form (filtered), the rest from the second. An instance of the earlier
/// release still writing after that midnight would leave the second form short of what it wrote.
/// </para>
/// </remarks>
internal sealed class AnalyticsRollups(
    IEntityStore store, Microsoft.Extensions.Options.IOptions<AnalyticsOptions> options, IMemoryCache cache, TimeProvider time, ILogger<AnalyticsRollups> logger)
    : BackgroundService
{
    public const string Table = "analytics";
    /// <summary>The partition of the platform-wide cells (admin analytics); workspace ids never start with '_'.</summary>
    public const string PlatformPartition = "_platform";

    private static readonly TimeSpan MarkerLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan NoMarkerLifetime = TimeSpan.FromMinutes(1);

    private sealed record LayoutMarker(DateTimeOffset Since);

    private readonly EntityTable<RollupCell> _rows = new(store, Table);
    private readonly EntityTable<LayoutMarker> _markers = new(store, Table);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private Dictionary<(string Partition, string RowKey), RollupCell> _pending = [];

    /// <summary>
    /// Adds <paramref name="delta"/> (its counts and sums, and those of its latency histograms the dimension keeps: see
    /// <see cref="Dimensions.LatenciesOf"/>) to the cells of <paramref name="dimension"/> = <paramref name="value"/> for the
    /// buckets holding <paramref name="at"/>.
    /// </summary>
    public void Add(string partition, string dimension, string? value, DateTimeOffset at, RollupCell delta)
    {
        if (dimension != Dimensions.All && string.IsNullOrEmpty(value))
        {
            return;
        }

        var shown = dimension == Dimensions.All ? "" : value!;
        var latencies = Dimensions.LatenciesOf(dimension);
        var first = false;
        lock (_gate)
        {
            foreach (var granularity in GranularitiesOf(dimension))
            {
                var start = BucketStart(at, granularity);
                first |= Pend(partition, RowKey(dimension, granularity, start, shown), shown, delta, latencies);
                if (Dimensions.ValueFirst(dimension) && granularity == Granularity.Hour)
                {
                    var day = BucketStart(at, Granularity.Day);
                    var hour = new RollupCell { Value = shown, Hours = new() { [(int)(start - day).TotalHours] = delta } };
                    Pend(partition, HourGroupRowKey(dimension, shown, day), shown, hour, latencies);
                }
                else if (Dimensions.ValueFirst(dimension))
                {
                    Pend(partition, ValueFirstRowKey(dimension, granularity, shown, start), shown, delta, latencies);
                }
            }
        }

        if (first)
        {
            _signal.Release();
        }
    }

    /// <summary>Adds a delta to a pending row (under the gate); true when it made the first pending row.</summary>
    private bool Pend(string partition, string rowKey, string value, RollupCell delta, Latencies latencies)
    {
        var first = false;
        if (!_pending.TryGetValue((partition, rowKey), out var cell))
        {
            _pending[(partition, rowKey)] = cell = new RollupCell { Value = value };
            first = _pending.Count == 1;
        }

        cell.Merge(delta, latencies);
        return first;
    }

    /// <summary>
    /// The cells of <paramref name="dimension"/> in buckets of <paramref name="granularity"/> that start in
    /// [<paramref name="from"/>, <paramref name="to"/>) after both are aligned down to the bucket size.
    /// </summary>
    public Task<List<RollupRow>> ReadAsync(
        string partition, string dimension, Granularity granularity, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        ReadRangeAsync(partition, RowKeyPrefix(dimension, granularity), "", granularity, BucketStart(from, granularity), AlignUp(to, granularity), cancellationToken);

    /// <summary>
    /// The cells of <paramref name="dimension"/> = <paramref name="value"/> (<c>""</c> for <see cref="Dimensions.All"/>)
    /// in buckets of <paramref name="granularity"/> that start in [<paramref name="from"/>, <paramref name="to"/>) after
    /// both are aligned down to the bucket size: one range of value-first rows where the partition's marker vouches for
    /// them, else the time-first rows of every value, filtered.
    /// </summary>
    public async Task<List<RollupRow>> ReadValueAsync(
        string partition, string dimension, string value, Granularity granularity, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var start = BucketStart(from, granularity);
        var end = AlignUp(to, granularity);
        var split = end;
        var grouped = granularity == Granularity.Hour;
        if (Dimensions.ValueFirst(dimension) && await ValueFirstSinceAsync(partition, dimension, grouped, create: false, cancellationToken) is { } since)
        {
            split = since <= start ? start : since >= end ? end : AlignUp(since, granularity);
        }

        var rows = new List<RollupRow>();
        if (start < split)
        {
            rows.AddRange(await ReadRangeAsync(partition, RowKeyPrefix(dimension, granularity), "", granularity, start, split, cancellationToken));
        }

        if (split < end && grouped)
        {
            rows.AddRange(await ReadHourGroupsAsync(partition, dimension, value, split, end, cancellationToken));
        }
        else if (split < end)
        {
            rows.AddRange(await ReadRangeAsync(partition, ValueFirstPrefix(dimension, granularity), KeyValue(value) + "|", granularity, split, end, cancellationToken));
        }

        rows.RemoveAll(r => r.Value != value);
        return rows;
    }

    /// <summary>The hour cells of one value in [<paramref name="start"/>, <paramref name="end"/>) (whole hours), from its rows that group a day's hours.</summary>
    private async Task<List<RollupRow>> ReadHourGroupsAsync(
        string partition, string dimension, string value, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var days = await ReadRangeAsync(
            partition, HourGroupPrefix(dimension), KeyValue(value) + "|", Granularity.Day, BucketStart(start, Granularity.Day), AlignUp(end, Granularity.Day), cancellationToken);
        return
        [
            .. from day in days
               from hour in day.Cell.Hours ?? []
               let at = day.Start.AddHours(hour.Key)
               where at >= start && at < end
               select new RollupRow(at, Granularity.Hour, day.Value, hour.Value),
        ];
    }

    /// <summary>The rows <c>{prefix}{infix}{stamp}…</c> with stamps in [<paramref name="start"/>, <paramref name="end"/>).</summary>
    private async Task<List<RollupRow>> ReadRangeAsync(
        string partition, string prefix, string infix, Granularity granularity, DateTimeOffset start, DateTimeOffset end, CancellationToken cancellationToken)
    {
        var rows = new List<RollupRow>();
        var query = new EntityQuery
        {
            PartitionKey = partition,
            RowKeyFrom = prefix + infix + Stamp(start),
            RowKeyTo = prefix + infix + Stamp(end),
            Take = EntityQuery.MaxTake,
        };
        await foreach (var row in _rows.QueryAllAsync(query, cancellationToken))
        {
            var stamp = row.RowKey.AsSpan((prefix + infix).Length, 12);
            var at = new DateTimeOffset(DateTime.ParseExact(stamp, "yyyyMMddHHmm", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal), TimeSpan.Zero);
            rows.Add(new RollupRow(at, granularity, row.Value.Value ?? "", row.Value));
        }

        return rows;
    }

    /// <summary>
    /// The cells of [<paramref name="from"/>, <paramref name="to"/>) (widened to whole hours) in as few rows as possible:
    /// day rows for the UTC days inside, and for a day the period covers in part, either its hours inside or its day row
    /// less its hours outside (those rows come back negated), whichever reads fewer rows. Hours after the current one
    /// hold nothing, so a period ending now reads today's day row, not its hours.
    /// </summary>
    public async Task<List<RollupRow>> ReadPeriodAsync(string partition, string dimension, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var start = BucketStart(from, Granularity.Hour);
        var end = AlignUp(to, Granularity.Hour);
        var days = (From: BucketStart(start, Granularity.Day), To: AlignUp(end, Granularity.Day));
        var future = BucketStart(time.GetUtcNow(), Granularity.Hour).AddHours(1);
        // At most how many hour rows [a, b) holds: none after the current hour.
        double Rows(DateTimeOffset a, DateTimeOffset b) => Math.Max(0, ((b < future ? b : future) - a).TotalHours);

        var added = new List<(DateTimeOffset From, DateTimeOffset To)>();
        var subtracted = new List<(DateTimeOffset From, DateTimeOffset To)>();
        if (days.To - days.From == SizeOf(Granularity.Day))
        {
            if (1 + Rows(days.From, start) + Rows(end, days.To) < Rows(start, end))
            {
                subtracted.AddRange([(days.From, start), (end, days.To)]);
            }
            else if (start != days.From || end != days.To)
            {
                added.Add((start, end));
                days.To = days.From;
            }
        }
        else
        {
            var second = days.From.AddDays(1);
            if (start == days.From || 1 + Rows(days.From, start) < Rows(start, second))
            {
                subtracted.Add((days.From, start));
            }
            else
            {
                added.Add((start, second));
                days.From = second;
            }

            var last = days.To.AddDays(-1);
            if (end == days.To || 1 + Rows(end, days.To) < Rows(last, end))
            {
                subtracted.Add((end, days.To));
            }
            else
            {
                added.Add((last, end));
                days.To = last;
            }
        }

        var rows = new List<RollupRow>();
        foreach (var (a, b) in added)
        {
            rows.AddRange(await ReadAsync(partition, dimension, Granularity.Hour, a, b, cancellationToken));
        }

        if (days.From < days.To)
        {
            rows.AddRange(await ReadAsync(partition, dimension, Granularity.Day, days.From, days.To, cancellationToken));
        }

        foreach (var (a, b) in subtracted.Where(r => r.From < r.To))
        {
            rows.AddRange((await ReadAsync(partition, dimension, Granularity.Hour, a, b, cancellationToken)).Select(r => r with { Cell = r.Cell.Negated() }));
        }

        return rows;
    }

    /// <summary>Deletes five-minute cells older than <paramref name="before"/> (they only serve alert windows); returns how many went.</summary>
    public async Task<int> DeleteFiveMinuteCellsAsync(string partition, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var dimension in new[] { Dimensions.All, Dimensions.Workflow })
        {
            var prefix = RowKeyPrefix(dimension, Granularity.FiveMinutes);
            var stale = await KeysAsync(partition, prefix, "", Stamp(BucketStart(before, Granularity.FiveMinutes)), cancellationToken);
            if (Dimensions.ValueFirst(dimension))
            {
                // The value-first copies go first: a sweep cut short finds them again through the rows left.
                foreach (var value in stale.Select(k => k[(prefix.Length + 13)..]).Distinct(StringComparer.Ordinal).ToList())
                {
                    var copies = await KeysAsync(partition, ValueFirstPrefix(dimension, Granularity.FiveMinutes), value + "|", Stamp(BucketStart(before, Granularity.FiveMinutes)), cancellationToken);
                    deleted += await DeleteAsync(partition, copies, cancellationToken);
                }
            }

            deleted += await DeleteAsync(partition, stale, cancellationToken);
        }

        return deleted;
    }

    private async Task<List<string>> KeysAsync(string partition, string prefix, string infix, string before, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var query = new EntityQuery { PartitionKey = partition, RowKeyFrom = prefix + infix, RowKeyTo = prefix + infix + before, Take = EntityQuery.MaxTake };
        await foreach (var row in _rows.QueryAllAsync(query, cancellationToken))
        {
            keys.Add(row.RowKey);
        }

        return keys;
    }

    private async Task<int> DeleteAsync(string partition, List<string> rowKeys, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var rowKey in rowKeys)
        {
            if ((await _rows.DeleteAsync(partition, rowKey, null, cancellationToken)).Succeeded)
            {
                deleted++;
            }
        }

        return deleted;
    }

    public static DateTimeOffset BucketStart(DateTimeOffset at, Granularity granularity)
    {
        var utc = at.ToUniversalTime();
        return granularity switch
        {
            Granularity.FiveMinutes => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute - utc.Minute % 5, 0, TimeSpan.Zero),
            Granularity.Hour => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero),
            _ => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
        };
    }

    public static TimeSpan SizeOf(Granularity granularity) => granularity switch
    {
        Granularity.FiveMinutes => TimeSpan.FromMinutes(5),
        Granularity.Hour => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    private static DateTimeOffset AlignUp(DateTimeOffset at, Granularity granularity)
    {
        var start = BucketStart(at, granularity);
        return start == at.ToUniversalTime() ? start : start + SizeOf(granularity);
    }

    private static Granularity[] GranularitiesOf(string dimension) => dimension is Dimensions.All or Dimensions.Workflow
        ? [Granularity.FiveMinutes, Granularity.Hour, Granularity.Day]
        : [Granularity.Hour, Granularity.Day];

    private static string GranularityCode(Granularity granularity) => granularity switch
    {
        Granularity.FiveMinutes => "m5",
        Granularity.Hour => "h",
        _ => "d",
    };

    private static string RowKeyPrefix(string dimension, Granularity granularity) => $"{dimension}|{GranularityCode(granularity)}|";

    private static string ValueFirstPrefix(string dimension, Granularity granularity) => $"{dimension}@|{GranularityCode(granularity)}|";

    private static string HourGroupPrefix(string dimension) => $"{dimension}@|hd|";

    private static string MarkerKey(string dimension, bool grouped) => grouped ? $"{dimension}@|hd-since" : $"{dimension}@|since";

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    // Values are escaped (model names hold '/', never '|' once escaped), and cut so the key stays under the store's 512 characters.
    private static string KeyValue(string value)
    {
        var escaped = Uri.EscapeDataString(value);
        return escaped.Length > 400 ? escaped[..400] : escaped;
    }

    private static string RowKey(string dimension, Granularity granularity, DateTimeOffset start, string value) =>
        RowKeyPrefix(dimension, granularity) + Stamp(start) + "|" + KeyValue(value);

    private static string ValueFirstRowKey(string dimension, Granularity granularity, string value, DateTimeOffset start) =>
        ValueFirstPrefix(dimension, granularity) + KeyValue(value) + "|" + Stamp(start);

    private static string HourGroupRowKey(string dimension, string value, DateTimeOffset day) => HourGroupPrefix(dimension) + KeyValue(value) + "|" + Stamp(day);

    /// <summary>
    /// The first bucket start from which the partition's value-first rows of <paramref name="dimension"/> (its rows that
    /// group a day's hours when <paramref name="grouped"/>) are complete, or null when no marker says so yet;
    /// <paramref name="create"/> writes the marker when it is missing.
    /// </summary>
    private async Task<DateTimeOffset?> ValueFirstSinceAsync(string partition, string dimension, bool grouped, bool create, CancellationToken cancellationToken)
    {
        var key = (nameof(AnalyticsRollups), partition, dimension, grouped);
        if (cache.TryGetValue(key, out DateTimeOffset? known) && (known is not null || !create))
        {
            return known;
        }

        var marker = (await _markers.GetAsync(partition, MarkerKey(dimension, grouped), cancellationToken))?.Value;
        if (marker is null && create)
        {
            // Cells written before this release have no value-first copy: only buckets that start after them are complete.
            var earlier = await store.QueryAsync(Table, new EntityQuery { PartitionKey = partition, RowKeyPrefix = dimension + "|", Take = 1 }, cancellationToken);
            var since = earlier.Items.Count == 0 ? DateTimeOffset.MinValue : BucketStart(time.GetUtcNow(), Granularity.Day).AddDays(1);
            marker = (await _markers.InsertAsync(partition, MarkerKey(dimension, grouped), new LayoutMarker(since), cancellationToken)).Succeeded
                ? new LayoutMarker(since)
                : (await _markers.GetAsync(partition, MarkerKey(dimension, grouped), cancellationToken))?.Value;
        }

        // A marker never changes once written; a missing one is looked for again soon (the time-first rows serve meanwhile).
        cache.Set(key, marker?.Since, new MemoryCacheEntryOptions
        {
            SlidingExpiration = marker is null ? null : MarkerLifetime,
            AbsoluteExpirationRelativeToNow = marker is null ? NoMarkerLifetime : null,
            Size = 1,
        });
        return marker?.Since;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _signal.WaitAsync(stoppingToken);
                await Task.Delay(options.Value.FlushInterval, stoppingToken);
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync writes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    /// <summary>Merges every pending delta into its row; a delta whose write fails goes back for the next flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        Dictionary<(string Partition, string RowKey), RollupCell> taken;
        lock (_gate)
        {
            taken = _pending;
            _pending = [];
        }

        await MarkValueFirstAsync(taken.Keys, cancellationToken);
        foreach (var ((partition, rowKey), delta) in taken)
        {
            try
            {
                await MergeAsync(partition, rowKey, delta, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                AnalyticsLog.RollupWriteFailed(logger, exception, partition, rowKey);
                lock (_gate)
                {
                    if (_pending.TryGetValue((partition, rowKey), out var newer))
                    {
                        newer.Merge(delta);
                    }
                    else
                    {
                        _pending[(partition, rowKey)] = delta;
                    }
                }
            }
        }

        if (taken.Count > 0 && _pending.Count > 0)
        {
            _signal.Release();
        }
    }

    /// <summary>Writes the marker of every partition about to get its first value-first rows, before they are written.</summary>
    private async Task MarkValueFirstAsync(IEnumerable<(string Partition, string RowKey)> keys, CancellationToken cancellationToken)
    {
        var marks = keys.Where(k => k.RowKey.Contains("@|", StringComparison.Ordinal))
            .Select(k => (k.Partition, Dimension: k.RowKey[..k.RowKey.IndexOf('@', StringComparison.Ordinal)], Grouped: k.RowKey.Contains("@|hd|", StringComparison.Ordinal)))
            .Distinct();
        foreach (var (partition, dimension, grouped) in marks)
        {
            try
            {
                await ValueFirstSinceAsync(partition, dimension, grouped, create: true, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The rows are written anyway; a later flush writes the marker, then vouching only for later buckets.
                AnalyticsLog.RollupWriteFailed(logger, exception, partition, MarkerKey(dimension, grouped));
            }
        }
    }

    private async Task MergeAsync(string partition, string rowKey, RollupCell delta, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var current = await _rows.GetAsync(partition, rowKey, cancellationToken);
            if (current is null)
            {
                if ((await _rows.InsertAsync(partition, rowKey, delta, cancellationToken)).Succeeded)
                {
                    return;
                }

                continue;
            }

            var merged = current.Value;
            merged.Merge(delta);
            if ((await _rows.ReplaceAsync(current, merged, cancellationToken)).Succeeded)
            {
                return;
            }
        }

        throw new InvalidOperationException($"Roll-up {partition}/{rowKey} kept changing under twenty attempts to merge into it.");
    }
}
