using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Serverless.Benchmarks;

internal sealed record BenchmarkOptions(TimeSpan Duration, TimeSpan Warmup, string? AppDir, string? OutFile, string Suite = BenchmarkOptions.FoundationSuite)
{
    public const string FoundationSuite = "foundation";
    public const string WorkflowsSuite = "workflows";
    public const string StorageSuite = "storage";
    public const string GatewaySuite = "gateway";
    public const string SearchSuite = "search";
    public const string IngestSuite = "ingest";
    public const string ListsSuite = "lists";
    public const string TableScanSuite = "table-scan";
    public const string AutomationSuite = "automation";
    public const string AnalyticsSuite = "analytics";
    public const string CodeSuite = "code";
    public const string PluginsSuite = "plugins";
    public const string SqliteStore = "sqlite";
    public const string AzuriteStore = "azurite";
    public const string BothStores = "both";

    public const string Usage =
        "usage: Benchmarks [--suite foundation|workflows|storage|gateway|search|ingest|lists|table-scan|automation|analytics|code|plugins (foundation)] [--duration SECONDS (10)] [--warmup SECONDS (2)] [--iterations N (400)] [--app PUBLISHED_DIR] [--out FILE]" +
        " [--store sqlite|azurite|both (both; lists and workflows suites)] [--max-items N (50000; lists suite; analytics suite: the most runs, default 100000)]";

    /// <summary>
    /// Storage suite: measured calls per operation and adapter; search suite: measured queries per scenario; ingest suite: documents per scenario;
    /// lists suite: the most measured requests per list, variant and size (<see cref="Duration"/> ends a slow one sooner).
    /// </summary>
    public int Iterations { get; init; } = 400;

    /// <summary>Lists and workflows suites: which stores the app runs on, one after the other.</summary>
    public string Store { get; init; } = BothStores;

    /// <summary>Lists suite: the largest workspace measured (the sizes above it are left out, and it is measured itself); analytics suite: the most runs.</summary>
    public int MaxItems { get; init; } = 50_000;

    public static bool TryParse(
        string[] args, [NotNullWhen(true)] out BenchmarkOptions? options, [NotNullWhen(false)] out string? error)
    {
        options = null;
        error = null;
        var duration = 10.0;
        var warmup = 2.0;
        string? appDir = null;
        string? outFile = null;
        var suite = FoundationSuite;
        var iterations = 400;
        var store = BothStores;
        int? maxItems = null;

        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length)
            {
                error = $"missing value for {args[i]}";
                return false;
            }

            var value = args[++i];
            switch (args[i - 1])
            {
                // Fewer items than a page or two would measure nothing the lists do at scale.
                case "--max-items" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var items) && items >= 100:
                    maxItems = items;
                    break;
                case "--iterations" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out iterations) && iterations > 0:
                case "--duration" when TryParseSeconds(value, out duration) && duration > 0:
                case "--warmup" when TryParseSeconds(value, out warmup) && warmup >= 0:
                    break;
                case "--app":
                    appDir = Path.GetFullPath(value);
                    if (!File.Exists(Path.Combine(appDir, "Functions.dll")))
                    {
                        error = $"--app: no Functions.dll in {appDir}";
                        return false;
                    }
                    break;
                case "--out":
                    outFile = Path.GetFullPath(value);
                    break;
                case "--suite" when value is FoundationSuite or WorkflowsSuite or StorageSuite or GatewaySuite or SearchSuite or IngestSuite or ListsSuite or TableScanSuite or AutomationSuite or AnalyticsSuite or CodeSuite or PluginsSuite:
                    suite = value;
                    break;
                case "--store" when value is SqliteStore or AzuriteStore or BothStores:
                    store = value;
                    break;
                default:
                    error = $"bad argument: {args[i - 1]} {value}";
                    return false;
            }
        }

        options = new BenchmarkOptions(
            TimeSpan.FromSeconds(duration), TimeSpan.FromSeconds(warmup), appDir, outFile, suite)
        {
            Iterations = iterations,
            Store = store,
            MaxItems = maxItems ?? (suite == AnalyticsSuite ? 100_000 : 50_000),
        };
        return true;
    }

    private static bool TryParseSeconds(string value, out double seconds) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds);
}
