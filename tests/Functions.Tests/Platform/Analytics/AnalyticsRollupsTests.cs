using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Analytics;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Storage;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Platform.Analytics;

/// <summary>
/// The roll-ups on the embedded store, below HTTP: what a period or one value's series reads must equal the sum of the
/// deltas in it, whichever rows (day, hour, value-first, rows of the earlier release) answer it.
/// </summary>
public sealed class AnalyticsRollupsTests : IDisposable
{
    private const string Workspace = "ws_rollups";
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 15, 20, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rollups-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteDatabase _database;
    private readonly CountingStore _store;
    private readonly Clock _clock = new(Now);
    private readonly AnalyticsRollups _rollups;
    private readonly List<(DateTimeOffset At, string Workflow, RollupCell Delta)> _made = [];

    public AnalyticsRollupsTests()
    {
        _database = new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = _directory }));
        _store = new CountingStore(new SqliteEntityStore(_database));
        _rollups = NewRollups();
    }

    public void Dispose()
    {
        _database.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ReadPeriod_OverAnyHoursOfFourDays_SumsExactlyTheDeltasInThem()
    {
        var random = new Random(3);
        var first = AnalyticsRollups.BucketStart(Now.AddDays(-3), Granularity.Day);
        for (var hour = first; hour < Now; hour = hour.AddHours(1))
        {
            for (var i = random.Next(3); i > 0; i--)
            {
                Record(hour.AddMinutes(random.Next(60)), random.Next(2) == 0 ? "a" : "b", random);
            }
        }

        await _rollups.FlushAsync(CancellationToken.None);
        var reader = new AnalyticsReader(_rollups);
        for (var from = first.AddMinutes(-90); from < Now.AddDays(1); from = from.AddMinutes(317))
        {
            for (var to = from.AddMinutes(43); to < Now.AddDays(1.5); to = to.AddMinutes(409))
            {
                var period = new AnalyticsPeriod(from, to, TimeZoneInfo.Utc);
                var read = await reader.ByValueAsync(Workspace, Dimensions.Workflow, period, CancellationToken.None);
                var start = AnalyticsRollups.BucketStart(from, Granularity.Hour);
                var end = AnalyticsRollups.BucketStart(to.AddTicks(-1), Granularity.Hour).AddHours(1);
                var expected = _made.Where(m => m.At >= start && m.At < end).GroupBy(m => m.Workflow)
                    .ToDictionary(g => g.Key, g => RollupCell.Sum(g.Select(m => m.Delta)));
                Assert.Equal(expected.Keys.Order(), read.Keys.Order());
                foreach (var (workflow, cell) in expected)
                {
                    AssertSame(cell, read[workflow], $"{workflow} over [{from:O}, {to:O})");
                }
            }
        }
    }

    [Fact]
    public async Task ReadValue_InANewPartition_ReadsOnlyThatValuesRows_ADaysHoursInOneRow()
    {
        // Over several flushes, some hours twice: each flush merges into the day's row.
        for (var hour = 1; hour <= 30; hour++)
        {
            Record(Now.AddHours(-hour), "a");
            Record(Now.AddHours(-hour), "b");
            if (hour % 4 == 0)
            {
                Record(Now.AddHours(-hour).AddMinutes(1), "a");
                await _rollups.FlushAsync(CancellationToken.None);
            }
        }

        await _rollups.FlushAsync(CancellationToken.None);

        _store.Rows = 0;
        var rows = await _rollups.ReadValueAsync(Workspace, Dimensions.Workflow, "a", Granularity.Hour, Now.AddDays(-2), Now, CancellationToken.None);
        var rowsRead = _store.Rows;
        var part = await _rollups.ReadValueAsync(Workspace, Dimensions.Workflow, "a", Granularity.Hour, Now.AddHours(-10), Now.AddHours(-5), CancellationToken.None);

        Assert.Equal(30, rows.Count);
        Assert.Equal(2, rowsRead); // the hours of yesterday and of today
        AssertSame(RollupCell.Sum(_made.Where(m => m.Workflow == "a").Select(m => m.Delta)), RollupCell.Sum(rows.Select(r => r.Cell)), "a");
        var partStart = AnalyticsRollups.BucketStart(Now.AddHours(-10), Granularity.Hour);
        var partEnd = AnalyticsRollups.BucketStart(Now.AddHours(-5), Granularity.Hour).AddHours(1);
        Assert.Equal(Enumerable.Range(0, 6).Select(h => partStart.AddHours(h)), part.Select(r => r.Start).Order());
        AssertSame(RollupCell.Sum(_made.Where(m => m.Workflow == "a" && m.At >= partStart && m.At < partEnd).Select(m => m.Delta)),
            RollupCell.Sum(part.Select(r => r.Cell)), "a, six hours");
    }

    [Fact]
    public async Task ReadValue_WhereTheEarlierReleaseWroteCells_ReadsThemAndEverythingAfter()
    {
        // The earlier release: time-first rows only, histograms as bucket objects, no marker.
        var day = AnalyticsRollups.BucketStart(Now.AddDays(-1), Granularity.Day);
        foreach (var (granularity, stamp) in new[] { (Granularity.Hour, day.AddHours(9)), (Granularity.Day, day) })
        {
            var key = $"workflow|{(granularity == Granularity.Hour ? "h" : "d")}|{stamp:yyyyMMddHHmm}|a";
            await _store.InsertAsync(AnalyticsRollups.Table, Workspace, key,
                """{"value":"a","runs":2,"runsSucceeded":1,"runsFailed":1,"runLatency":{"buckets":{"170":2},"count":2,"sum":1600}}""", CancellationToken.None);
        }

        Record(Now.AddHours(-1), "a");
        Record(Now.AddHours(-1), "b");
        await _rollups.FlushAsync(CancellationToken.None);
        _clock.Now = Now.AddDays(2);
        Record(_clock.Now.AddHours(-2), "a");
        Record(_clock.Now.AddHours(-2), "b");
        await _rollups.FlushAsync(CancellationToken.None);

        foreach (var granularity in new[] { Granularity.Hour, Granularity.Day })
        {
            var rows = await NewRollups().ReadValueAsync(Workspace, Dimensions.Workflow, "a", granularity, day, _clock.Now, CancellationToken.None);
            var all = await _rollups.ReadAsync(Workspace, Dimensions.Workflow, granularity, day, _clock.Now, CancellationToken.None);
            Assert.Equal(all.Where(r => r.Value == "a").Select(r => (r.Start, r.Cell.Runs)), rows.Select(r => (r.Start, r.Cell.Runs)));
            Assert.Equal(4, rows.Sum(r => r.Cell.Runs));
            Assert.Equal(1600 + _made.Where(m => m.Workflow == "a").Sum(m => m.Delta.RunLatency!.Sum), RollupCell.Sum(rows.Select(r => r.Cell)).RunLatency!.Sum, 6);
        }

        // The buckets from the midnight after this release first wrote to the partition are read value first.
        _store.Rows = 0;
        var later = await NewRollups().ReadValueAsync(Workspace, Dimensions.Workflow, "a", Granularity.Hour, day.AddDays(2), _clock.Now, CancellationToken.None);
        Assert.Equal(1, Assert.Single(later).Cell.Runs);
        Assert.Equal(1, _store.Rows);
    }

    [Fact]
    public async Task DeleteFiveMinuteCells_DeletesTheirValueFirstCopiesToo()
    {
        Record(Now.AddDays(-3), "a");
        Record(Now.AddDays(-3), "b");
        Record(Now.AddMinutes(-7), "a");
        await _rollups.FlushAsync(CancellationToken.None);

        var deleted = await _rollups.DeleteFiveMinuteCellsAsync(Workspace, Now.AddDays(-2), CancellationToken.None);

        Assert.Equal(2 + 2 + 1, deleted); // all: one cell; workflow: a and b, each in both forms
        var left = await _store.QueryAsync(AnalyticsRollups.Table, new EntityQuery { PartitionKey = Workspace, Take = EntityQuery.MaxTake }, CancellationToken.None);
        Assert.Equal(3, left.Items.Count(e => e.RowKey.Contains("|m5|", StringComparison.Ordinal)));
        var recent = await _rollups.ReadValueAsync(Workspace, Dimensions.Workflow, "a", Granularity.FiveMinutes, Now.AddDays(-4), Now, CancellationToken.None);
        Assert.Equal(1, Assert.Single(recent).Cell.Runs);
    }

    private AnalyticsRollups NewRollups() =>
        new(_store, Options.Create(new AnalyticsOptions()), new MemoryCache(new MemoryCacheOptions()), _clock, NullLogger<AnalyticsRollups>.Instance);

    /// <summary>A run of <paramref name="workflow"/> ending at <paramref name="at"/>, with a model call.</summary>
    private void Record(DateTimeOffset at, string workflow, Random? random = null)
    {
        random ??= new Random(_made.Count);
        var delta = new RollupCell { Runs = 1, RunsSucceeded = 1, Requests = 1, CostUsd = random.Next(1, 1_000) / 10_000m, PromptTokens = random.Next(100) };
        delta.RunLatency = new LatencyHistogram();
        delta.RunLatency.Add(random.NextDouble() * 5_000);
        _made.Add((at, workflow, delta));
        _rollups.Add(Workspace, Dimensions.All, null, at, delta);
        _rollups.Add(Workspace, Dimensions.Workflow, workflow, at, delta);
    }

    private static void AssertSame(RollupCell expected, RollupCell actual, string what)
    {
        Assert.True((expected.Runs, expected.Requests, expected.CostUsd, expected.PromptTokens) == (actual.Runs, actual.Requests, actual.CostUsd, actual.PromptTokens),
            $"{what}: expected {expected.Runs} runs, {expected.Requests} requests, {expected.CostUsd} USD; read {actual.Runs}, {actual.Requests}, {actual.CostUsd}");
        Assert.Equal(expected.RunLatency!.Occupied(), actual.RunLatency!.Occupied());
        Assert.Equal(expected.RunLatency.Sum, actual.RunLatency.Sum, 6);
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>The embedded store, counting the rows its scans return.</summary>
    private sealed class CountingStore(IEntityStore inner) : ForwardingEntityStore(inner)
    {
        public int Rows { get; set; }

        public override async Task<EntityPage> QueryAsync(string table, EntityQuery query, CancellationToken cancellationToken)
        {
            var page = await base.QueryAsync(table, query, cancellationToken);
            Rows += page.Items.Count;
            return page;
        }
    }
}
