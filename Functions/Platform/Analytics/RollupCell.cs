using System.Text.Json.Serialization;

namespace Serverless.Functions.Platform.Analytics;

/// <summary>The latency histograms of a <see cref="RollupCell"/>.</summary>
[Flags]
internal enum Latencies
{
    None = 0,
    Model = 1,
    FirstToken = 2,
    Run = 4,
    Node = 8,
    All = Model | FirstToken | Run | Node,
}

/// <summary>
/// What happened in one time bucket for one value of one dimension (a model, a workflow, …): model calls, runs and
/// node attempts, as sums and latency histograms. Cells add up, so a period is the sum of its buckets.
/// </summary>
internal sealed class RollupCell
{
    private const JsonIgnoreCondition Sparse = JsonIgnoreCondition.WhenWritingDefault;

    /// <summary>The dimension value as given (the row key holds it escaped).</summary>
    [JsonIgnore(Condition = Sparse)] public string? Value { get; set; }

    // Model calls.
    [JsonIgnore(Condition = Sparse)] public long Requests { get; set; }
    [JsonIgnore(Condition = Sparse)] public long Errors { get; set; }
    [JsonIgnore(Condition = Sparse)] public long PromptTokens { get; set; }
    [JsonIgnore(Condition = Sparse)] public long CompletionTokens { get; set; }
    [JsonIgnore(Condition = Sparse)] public decimal CostUsd { get; set; }
    [JsonIgnore(Condition = Sparse)] public LatencyHistogram? ModelLatency { get; set; }
    [JsonIgnore(Condition = Sparse)] public LatencyHistogram? FirstToken { get; set; }

    // Top-level runs, counted when they end.
    [JsonIgnore(Condition = Sparse)] public long Runs { get; set; }
    [JsonIgnore(Condition = Sparse)] public long RunsSucceeded { get; set; }
    [JsonIgnore(Condition = Sparse)] public long RunsFailed { get; set; }
    [JsonIgnore(Condition = Sparse)] public long RunsCancelled { get; set; }
    [JsonIgnore(Condition = Sparse)] public LatencyHistogram? RunLatency { get; set; }
    [JsonIgnore(Condition = Sparse)] public decimal MinutesSaved { get; set; }

    // Node attempts of those runs.
    [JsonIgnore(Condition = Sparse)] public long Nodes { get; set; }
    [JsonIgnore(Condition = Sparse)] public long NodesFailed { get; set; }
    [JsonIgnore(Condition = Sparse)] public LatencyHistogram? NodeLatency { get; set; }

    /// <summary>
    /// Only in a row that groups a day's hour cells (see <see cref="AnalyticsRollups"/>): each hour's cell by its hour of
    /// the UTC day (0–23). The row's own sums stay empty.
    /// </summary>
    [JsonIgnore(Condition = Sparse)] public SortedDictionary<int, RollupCell>? Hours { get; set; }

    [JsonIgnore] public long TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>Nothing counted: every delta counts a model call, a run or node attempts.</summary>
    [JsonIgnore] public bool IsEmpty => Requests == 0 && Runs == 0 && Nodes == 0;

    /// <summary>Adds <paramref name="other"/>'s counts and sums, and those of its latency histograms that <paramref name="keep"/> names.</summary>
    public void Merge(RollupCell other, Latencies keep = Latencies.All)
    {
        Value ??= other.Value;
        Requests += other.Requests;
        Errors += other.Errors;
        PromptTokens += other.PromptTokens;
        CompletionTokens += other.CompletionTokens;
        CostUsd += other.CostUsd;
        ModelLatency = keep.HasFlag(Latencies.Model) ? LatencyHistogram.Combine(ModelLatency, other.ModelLatency) : ModelLatency;
        FirstToken = keep.HasFlag(Latencies.FirstToken) ? LatencyHistogram.Combine(FirstToken, other.FirstToken) : FirstToken;
        Runs += other.Runs;
        RunsSucceeded += other.RunsSucceeded;
        RunsFailed += other.RunsFailed;
        RunsCancelled += other.RunsCancelled;
        RunLatency = keep.HasFlag(Latencies.Run) ? LatencyHistogram.Combine(RunLatency, other.RunLatency) : RunLatency;
        MinutesSaved += other.MinutesSaved;
        Nodes += other.Nodes;
        NodesFailed += other.NodesFailed;
        NodeLatency = keep.HasFlag(Latencies.Node) ? LatencyHistogram.Combine(NodeLatency, other.NodeLatency) : NodeLatency;
        foreach (var (hour, cell) in other.Hours ?? [])
        {
            Hours ??= [];
            if (!Hours.TryGetValue(hour, out var mine))
            {
                Hours[hour] = mine = new RollupCell { Value = cell.Value };
            }

            mine.Merge(cell, keep);
        }
    }

    /// <summary>This cell with every sum and count negated: merging it takes this cell out again.</summary>
    public RollupCell Negated() => new()
    {
        Value = Value,
        Requests = -Requests,
        Errors = -Errors,
        PromptTokens = -PromptTokens,
        CompletionTokens = -CompletionTokens,
        CostUsd = -CostUsd,
        ModelLatency = ModelLatency?.Negated(),
        FirstToken = FirstToken?.Negated(),
        Runs = -Runs,
        RunsSucceeded = -RunsSucceeded,
        RunsFailed = -RunsFailed,
        RunsCancelled = -RunsCancelled,
        RunLatency = RunLatency?.Negated(),
        MinutesSaved = -MinutesSaved,
        Nodes = -Nodes,
        NodesFailed = -NodesFailed,
        NodeLatency = NodeLatency?.Negated(),
        Hours = Hours is null ? null : new SortedDictionary<int, RollupCell>(Hours.ToDictionary(h => h.Key, h => h.Value.Negated())),
    };

    public static RollupCell Sum(IEnumerable<RollupCell> cells)
    {
        var total = new RollupCell();
        foreach (var cell in cells)
        {
            total.Merge(cell);
        }

        return total;
    }

    public RollupCell Copy()
    {
        var copy = new RollupCell();
        copy.Merge(this);
        return copy;
    }
}
