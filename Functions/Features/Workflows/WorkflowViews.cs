using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal sealed record WorkflowDto(
    string Id, string Name, string? Description, string Status, int Version, bool IsTemplate,
    WorkflowDefinition Definition, JsonObject? InputsSchema, string? AppId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, decimal? MinutesSavedPerRun)
{
    public static WorkflowDto From(WorkflowRecord w) =>
        new(w.Id, w.Name, w.Description, w.Status, w.Version, w.IsTemplate, w.Definition, w.InputsSchema, w.AppId, w.CreatedAt, w.UpdatedAt, w.MinutesSavedPerRun);
}

internal sealed record WorkflowSummaryDto(
    string Id, string Name, string? Description, string Status, int Version, bool IsTemplate, int NodeCount, string? AppId,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static WorkflowSummaryDto From(WorkflowRecord w) =>
        new(w.Id, w.Name, w.Description, w.Status, w.Version, w.IsTemplate, w.Definition.Nodes.Count, w.AppId, w.CreatedAt, w.UpdatedAt);
}

internal sealed record WorkflowVersionDto(int Version, DateTimeOffset CreatedAt, string CreatedBy, int NodeCount, WorkflowDefinition Definition, JsonObject? InputsSchema);

internal sealed record ExecutionAcceptedDto(string ExecutionId, string Status, string WorkflowId, int Version);

internal sealed record TokenUsageDto(long PromptTokens, long CompletionTokens, long TotalTokens)
{
    // FastGPT's names for the same counts, offered beside ours so its clients read them unchanged.
    public long Prompt => PromptTokens;
    public long Completion => CompletionTokens;
    public long Total => TotalTokens;
}

internal sealed record NodeRunDto(
    string Id, string Type, string? Name, string Status, int Attempts, JsonNode? Input, JsonNode? Output, string? Branch,
    NodeError? Error, bool UsedDefault, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long? DurationMs, JsonObject? Waiting);

internal sealed record ExecutionStatsDto(int NodesTotal, int NodesSucceeded, int NodesFailed, int NodesSkipped, int NodesActive, int Retries);

internal sealed record ExecutionDto(
    string Id, string WorkflowId, int Version, string Status, JsonObject Inputs, JsonObject? Outputs, RunError? Error, JsonObject? Metadata,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, long? DurationMs, string? ParentExecutionId,
    IReadOnlyList<NodeRunDto> Nodes, ExecutionStatsDto Stats, TokenUsageDto TokenUsage);

internal sealed record ExecutionSummaryDto(
    string Id, string WorkflowId, int Version, string Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

internal static class ExecutionViews
{
    public static ExecutionDto Detail(ExecutionDocument run) => new(
        run.Id, run.WorkflowId, run.Version, run.Status, run.Inputs, run.Outputs, run.Error, run.Metadata,
        run.CreatedAt, run.StartedAt, run.CompletedAt, Duration(run.StartedAt, run.CompletedAt), run.ParentExecutionId,
        [.. run.Definition.Nodes.Select(n => Node(n, run.Nodes[n.Id]))],
        Stats(run), TokenUsage(run));

    public static ExecutionSummaryDto Summary(ExecutionDocument run) =>
        new(run.Id, run.WorkflowId, run.Version, run.Status, run.CreatedAt, run.CompletedAt);

    public static ExecutionSummaryDto Summary(ExecutionSummary entry) =>
        new(entry.Id, entry.WorkflowId, entry.Version, entry.Status, entry.CreatedAt, entry.CompletedAt);

    /// <summary>Token usage summed over nodes that report a <c>usage</c> object (LLM nodes do).</summary>
    public static TokenUsageDto TokenUsage(ExecutionDocument run)
    {
        long prompt = 0, completion = 0;
        foreach (var state in run.Nodes.Values)
        {
            if (state.Output is JsonObject { } output && output["usage"] is JsonObject usage)
            {
                prompt += (long)(JsonValues.AsNumber(usage["promptTokens"]) ?? 0);
                completion += (long)(JsonValues.AsNumber(usage["completionTokens"]) ?? 0);
            }
        }

        return new TokenUsageDto(prompt, completion, prompt + completion);
    }

    public static long? Duration(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } f && to is { } t ? (long)(t - f).TotalMilliseconds : null;

    private static NodeRunDto Node(NodeDefinition node, NodeState state) => new(
        node.Id, node.Type, node.Name, state.Status, state.Attempts, state.Input, state.Output, state.Branch, state.Error, state.UsedDefault,
        state.StartedAt, state.CompletedAt, Duration(state.StartedAt, state.CompletedAt), Waiting(state));

    private static JsonObject? Waiting(NodeState state) => state.Status != NodeStatus.Waiting || state.Wait is not { } wait ? null : new JsonObject
    {
        ["since"] = wait.Since,
        ["until"] = wait.Until,
        ["event"] = wait.EventName,
        ["prompt"] = wait.Prompt?.DeepClone(),
        ["children"] = new JsonArray([.. wait.Children.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (JsonNode?)new JsonObject
        {
            ["key"] = c.Key,
            ["executionId"] = c.Value,
            ["status"] = wait.ChildResults.TryGetValue(c.Key, out var r) ? r.Status : "running",
        })]),
    };

    private static ExecutionStatsDto Stats(ExecutionDocument run)
    {
        var states = run.Nodes.Values.ToList();
        return new ExecutionStatsDto(
            states.Count,
            states.Count(s => s.Status == NodeStatus.Succeeded),
            states.Count(s => s.Status == NodeStatus.Failed),
            states.Count(s => s.Status == NodeStatus.Skipped),
            states.Count(s => s.Status is NodeStatus.Scheduled or NodeStatus.Running or NodeStatus.Waiting),
            run.Retries);
    }
}
