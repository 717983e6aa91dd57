using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Orchestrations.Nodes;

/// <summary><c>delay</c>: a durable timer of <c>config.seconds</c>; survives restarts.</summary>
public sealed class DelayNode : INodeType
{
    /// <summary>Longest delay accepted (30 days).</summary>
    public const double MaxSeconds = 30 * 24 * 3600;

    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("delay", "Delay", "Waits config.seconds durably (a timer that survives restarts).", "flow",
        Schemas.Parse("""{"type":"object","required":["seconds"],"properties":{"seconds":{"type":"number","minimum":0,"maximum":2592000}}}"""),
        Schemas.Parse("""{"type":"object","properties":{"waitedSeconds":{"type":"number"}}}"""), [], IsInstant: false);

    /// <inheritdoc />
    public bool RunsInOrchestration => true;

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        if (JsonValues.AsNumber(context.Config["seconds"]) is not { } seconds || seconds < 0 || seconds > MaxSeconds)
        {
            return ValueTask.FromResult(NodeResult.Fail("INVALID_CONFIG", $"seconds must be a number from 0 to {MaxSeconds}.", retryable: false));
        }

        var now = context.Clock.GetUtcNow();
        if (seconds == 0)
        {
            return ValueTask.FromResult(NodeResult.Complete(new JsonObject { ["waitedSeconds"] = 0, ["startedAt"] = now.ToString("O", CultureInfo.InvariantCulture) }));
        }

        return ValueTask.FromResult(NodeResult.WaitFor(new WaitRequest
        {
            Until = now.AddSeconds(seconds),
            State = new JsonObject { ["startedAt"] = now.ToString("O", CultureInfo.InvariantCulture) },
        }));
    }

    /// <inheritdoc />
    public ValueTask<NodeResult> ResumeAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.Parse(JsonValues.AsString(context.WaitState?["startedAt"]) ?? context.Clock.GetUtcNow().ToString("O"), CultureInfo.InvariantCulture);
        var seconds = JsonValues.AsNumber(context.Config["seconds"]) ?? 0;
        return ValueTask.FromResult(NodeResult.Complete(new JsonObject { ["waitedSeconds"] = seconds, ["startedAt"] = started.ToString("O", CultureInfo.InvariantCulture) }));
    }
}

/// <summary><c>human_review</c>: the run waits until someone approves or rejects over the API; branches <c>approved</c>/<c>rejected</c>.</summary>
public sealed class HumanReviewNode : INodeType
{
    /// <summary>The external event a review resolves.</summary>
    public const string EventName = "review";

    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("human_review", "Human review", "Pauses the run until POST /api/v1/executions/{id}/review approves or rejects; branches approved/rejected.", "human",
        Schemas.Parse("""{"type":"object","required":["instructions"],"properties":{"instructions":{"type":"string"},"data":{"description":"shown to the reviewer"}}}"""),
        Schemas.Parse("""{"type":"object","properties":{"decision":{"enum":["approved","rejected"]},"data":{},"reviewedBy":{"type":"string"},"reviewedAt":{"type":"string"}}}"""),
        ["approved", "rejected"], IsInstant: false);

    /// <inheritdoc />
    public bool RunsInOrchestration => true;

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(NodeResult.WaitFor(new WaitRequest
        {
            EventName = EventName,
            Prompt = new JsonObject { ["instructions"] = context.Config["instructions"]?.DeepClone(), ["data"] = context.Config["data"]?.DeepClone() },
        }));

    /// <inheritdoc />
    public ValueTask<NodeResult> ResumeAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var payload = context.EventPayload ?? [];
        var approved = JsonValues.AsString(payload["decision"]) == "approve";
        return ValueTask.FromResult(NodeResult.Complete(new JsonObject
        {
            ["decision"] = approved ? "approved" : "rejected",
            ["data"] = payload["data"]?.DeepClone(),
            ["reviewedBy"] = payload["reviewedBy"]?.DeepClone(),
            ["reviewedAt"] = payload["reviewedAt"]?.DeepClone(),
        }, approved ? "approved" : "rejected"));
    }
}

/// <summary><c>sub_workflow</c>: runs another workflow as a child run; its outputs become this node's output.</summary>
public sealed class SubWorkflowNode : INodeType
{
    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("sub_workflow", "Sub-workflow", "Runs config.workflowId (optionally config.version) with config.inputs as a child run; outputs its outputs.", "flow",
        Schemas.Parse("""{"type":"object","required":["workflowId"],"properties":{"workflowId":{"type":"string"},"version":{"type":"integer"},"inputs":{"type":"object"}}}"""),
        Schemas.AnyObject, [], IsInstant: false);

    /// <inheritdoc />
    public bool RunsInOrchestration => true;

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        if (JsonValues.AsString(context.Config["workflowId"]) is not { Length: > 0 } workflowId)
        {
            return ValueTask.FromResult(NodeResult.Fail("INVALID_CONFIG", "workflowId must be a string.", retryable: false));
        }

        var version = JsonValues.AsNumber(context.Config["version"]) is { } v ? (int?)v : null;
        var inputs = context.Config["inputs"] as JsonObject ?? [];
        return ValueTask.FromResult(NodeResult.WaitFor(new WaitRequest { Children = [new ChildRunRequest("0", workflowId, version, (JsonObject)inputs.DeepClone())] }));
    }

    /// <inheritdoc />
    public ValueTask<NodeResult> ResumeAsync(NodeContext context, CancellationToken cancellationToken)
    {
        if (!context.Children.TryGetValue("0", out var child))
        {
            return ValueTask.FromResult(NodeResult.WaitFor(new WaitRequest()));
        }

        return ValueTask.FromResult(child.Status == "succeeded"
            ? NodeResult.Complete(child.Outputs?.DeepClone() ?? new JsonObject())
            : NodeResult.Fail("SUB_WORKFLOW_FAILED", $"The sub-workflow run {child.ExecutionId} ended {child.Status}: {child.Error}", retryable: false));
    }
}

/// <summary>
/// <c>loop</c>: runs <c>config.workflowId</c> once per item of <c>config.items</c>, at most <c>config.concurrency</c>
/// at a time, each with inputs <c>item</c>, <c>index</c> (plus <c>config.inputs</c>); outputs the results in item order.
/// </summary>
public sealed class LoopNode : INodeType
{
    /// <summary>Largest list a loop accepts.</summary>
    public const int MaxItems = 10_000;

    /// <summary>Largest concurrency.</summary>
    public const int MaxConcurrency = 100;

    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("loop", "Loop", "Runs config.workflowId for each of config.items (inputs item, index, plus config.inputs), config.concurrency at a time; outputs results in order.", "flow",
        Schemas.Parse("""
            {"type":"object","required":["items","workflowId"],"properties":{
              "items":{"description":"an array or a {{reference}} to one"},"workflowId":{"type":"string"},"version":{"type":"integer"},
              "concurrency":{"type":"integer","minimum":1,"maximum":100,"default":5},"inputs":{"type":"object"}}}
            """),
        Schemas.Parse("""{"type":"object","properties":{"results":{"type":"array"},"count":{"type":"integer"}}}"""), [], IsInstant: false);

    /// <inheritdoc />
    public bool RunsInOrchestration => true;

    /// <inheritdoc />
    public ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        if (context.Config["items"] is not JsonArray items)
        {
            return ValueTask.FromResult(NodeResult.Fail("INVALID_ITEMS", "items must resolve to an array.", retryable: false));
        }

        if (items.Count > MaxItems)
        {
            return ValueTask.FromResult(NodeResult.Fail("INVALID_ITEMS", $"A loop takes at most {MaxItems} items.", retryable: false));
        }

        if (items.Count == 0)
        {
            return ValueTask.FromResult(NodeResult.Complete(new JsonObject { ["results"] = new JsonArray(), ["count"] = 0 }));
        }

        var state = new JsonObject { ["items"] = items.DeepClone(), ["next"] = 0 };
        return ValueTask.FromResult(Spawn(context, state, running: 0));
    }

    /// <inheritdoc />
    public ValueTask<NodeResult> ResumeAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var state = (JsonObject)(context.WaitState ?? []).DeepClone();
        var items = state["items"] as JsonArray ?? [];
        if (context.Children.Values.FirstOrDefault(c => c.Status != "succeeded") is { } failed)
        {
            return ValueTask.FromResult(NodeResult.Fail("LOOP_ITEM_FAILED", $"Item run {failed.ExecutionId} ended {failed.Status}: {failed.Error}", retryable: false));
        }

        if (context.Children.Count == items.Count)
        {
            var results = new JsonArray([.. Enumerable.Range(0, items.Count).Select(i => (JsonNode?)context.Children[i.ToString(CultureInfo.InvariantCulture)].Outputs?.DeepClone())]);
            return ValueTask.FromResult(NodeResult.Complete(new JsonObject { ["results"] = results, ["count"] = items.Count }));
        }

        var started = (int)(JsonValues.AsNumber(state["next"]) ?? 0);
        return ValueTask.FromResult(Spawn(context, state, running: started - context.Children.Count));
    }

    private static NodeResult Spawn(NodeContext context, JsonObject state, int running)
    {
        var items = (JsonArray)state["items"]!;
        var concurrency = (int)Math.Clamp(JsonValues.AsNumber(context.Config["concurrency"]) ?? 5, 1, MaxConcurrency);
        var next = (int)(JsonValues.AsNumber(state["next"]) ?? 0);
        var workflowId = JsonValues.AsString(context.Config["workflowId"]) ?? "";
        var version = JsonValues.AsNumber(context.Config["version"]) is { } v ? (int?)v : null;
        var children = new List<ChildRunRequest>();
        while (next < items.Count && running + children.Count < concurrency)
        {
            var inputs = context.Config["inputs"] is JsonObject extra ? (JsonObject)extra.DeepClone() : [];
            inputs["item"] = items[next]?.DeepClone();
            inputs["index"] = next;
            children.Add(new ChildRunRequest(next.ToString(CultureInfo.InvariantCulture), workflowId, version, inputs));
            next++;
        }

        state["next"] = next;
        return NodeResult.WaitFor(new WaitRequest { Children = children, State = state });
    }
}
