using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Analytics;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Platform.Analytics;

/// <summary>
/// The roll-ups on the embedded store, below HTTP: what a period reads must equal the sum of the deltas in it, whichever
/// rows (day, hour) answer it.
/// </summary>
public sealed class AnalyticsRollupsTests : IDisposable
{
    private const string Workspace = "ws_rollups";
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 15, 20, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rollups-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteDatabase _database;
    private readonly IEntityStore _store;
    private readonly Clock _clock = new(Now);
    private readonly AnalyticsRollups _rollups;
    private readonly List<(DateTimeOffset At, string Workflow, RollupCell Delta)> _made = [];

    public AnalyticsRollupsTests()
    {
        _database = new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = _directory }));
        _store = new SqliteEntityStore(_database);
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

    private AnalyticsRollups NewRollups() =>
        new(_store, Options.Create(new AnalyticsOptions()), _clock, NullLogger<AnalyticsRollups>.Instance);

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
}
