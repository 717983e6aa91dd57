using Serverless.Functions.Platform.Ai;

namespace Serverless.Functions.Platform.Analytics;

/// <summary>What a finished top-level run contributes: its outcome, duration and node attempts, and who it is attributed to.</summary>
internal sealed record RunFact(
    string WorkspaceId, string WorkflowId, string? AppId, string? UserId, string? ApiKeyId, string Status, DateTimeOffset EndedAt,
    double? DurationMs, decimal MinutesSaved, IReadOnlyList<NodeFact> Nodes);

/// <summary>One node of a finished run: its type, whether it failed, how long it took.</summary>
internal sealed record NodeFact(string Type, bool Failed, double? DurationMs);

/// <summary>Turns model calls and finished runs into roll-up deltas for every dimension they count in.</summary>
internal sealed class AnalyticsRecorder(AnalyticsRollups rollups)
{
    public void Usage(UsageRecord record)
    {
        var failed = record.Status is not (UsageStatus.Ok or UsageStatus.Cancelled);
        var delta = new RollupCell
        {
            Requests = 1,
            Errors = failed ? 1 : 0,
            PromptTokens = record.PromptTokens,
            CompletionTokens = record.CompletionTokens,
            CostUsd = record.CostUsd,
        };
        delta.ModelLatency = new LatencyHistogram();
        delta.ModelLatency.Add(record.LatencyMs);
        if (record.TimeToFirstTokenMs is { } ttft)
        {
            delta.FirstToken = new LatencyHistogram();
            delta.FirstToken.Add(ttft);
        }

        AddEverywhere(record.WorkspaceId, record.CreatedAt, delta, record.Model, record.Provider,
            (Dimensions.Model, record.Model), (Dimensions.Provider, record.Provider), (Dimensions.App, record.AppId),
            (Dimensions.Workflow, record.WorkflowId), (Dimensions.ApiKey, record.ApiKeyId), (Dimensions.User, record.UserId));
    }

    public void Run(RunFact run)
    {
        var delta = new RollupCell
        {
            Runs = 1,
            RunsSucceeded = run.Status == Orchestrations.Runtime.ExecutionStatus.Succeeded ? 1 : 0,
            RunsCancelled = run.Status == Orchestrations.Runtime.ExecutionStatus.Cancelled ? 1 : 0,
            MinutesSaved = run.Status == Orchestrations.Runtime.ExecutionStatus.Succeeded ? run.MinutesSaved : 0,
        };
        delta.RunsFailed = delta.Runs - delta.RunsSucceeded - delta.RunsCancelled;
        if (run.DurationMs is { } duration)
        {
            delta.RunLatency = new LatencyHistogram();
            delta.RunLatency.Add(duration);
        }

        var at = run.EndedAt;
        var workspace = run.WorkspaceId;
        AddEverywhere(workspace, at, delta, null, null,
            (Dimensions.Workflow, run.WorkflowId), (Dimensions.App, run.AppId), (Dimensions.ApiKey, run.ApiKeyId), (Dimensions.User, run.UserId));

        foreach (var type in run.Nodes.GroupBy(n => n.Type, StringComparer.Ordinal))
        {
            var nodes = new RollupCell { Nodes = type.Count(), NodesFailed = type.Count(n => n.Failed) };
            foreach (var node in type)
            {
                if (node.DurationMs is { } ms)
                {
                    nodes.NodeLatency ??= new LatencyHistogram();
                    nodes.NodeLatency.Add(ms);
                }
            }

            rollups.Add(workspace, Dimensions.NodeType, type.Key, at, nodes);
            rollups.Add(AnalyticsRollups.PlatformPartition, Dimensions.NodeType, type.Key, at, nodes);
        }
    }

    /// <summary>The workspace's total and <paramref name="dimensions"/> cells, and the platform's total, workspace, model and provider cells.</summary>
    private void AddEverywhere(string workspaceId, DateTimeOffset at, RollupCell delta, string? model, string? provider, params (string Dimension, string? Value)[] dimensions)
    {
        rollups.Add(workspaceId, Dimensions.All, null, at, delta);
        foreach (var (dimension, value) in dimensions)
        {
            rollups.Add(workspaceId, dimension, value, at, delta);
        }

        const string platform = AnalyticsRollups.PlatformPartition;
        rollups.Add(platform, Dimensions.All, null, at, delta);
        rollups.Add(platform, Dimensions.Workspace, workspaceId, at, delta);
        rollups.Add(platform, Dimensions.Model, model, at, delta);
        rollups.Add(platform, Dimensions.Provider, provider, at, delta);
    }
}
