using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Orchestrations.Runtime;

/// <summary>
/// One step of a run inside its orchestration: the state machine changes the document and collects what the
/// orchestration must do next (node attempts and resumes, child runs to create, children to stop).
/// </summary>
internal sealed class Transaction(ExecutionDocument document, DateTimeOffset now)
{
    public ExecutionDocument Doc { get; } = document;
    public DateTimeOffset Now { get; } = now;
    public List<(WorkItem Item, TimeSpan? Delay)> Enqueue { get; } = [];
    public List<(string ExecutionId, string NodeId, ChildRunRequest Request)> ChildrenToCreate { get; } = [];
    public List<string> ChildrenToStop { get; } = [];
    public bool BecameTerminal { get; set; }

    public void Emit(string type, string? nodeId, JsonObject? data)
    {
        Doc.EventSeq++;
        Doc.PendingEvents.Add(new ExecutionEvent(Doc.EventSeq, type, nodeId, data, Now));
    }
}

/// <summary>The engine's state machine: applying node results and advancing the graph. Pure over the document.</summary>
internal sealed class StateMachine(NodeRegistry registry, TimeProvider clock)
{
    /// <summary>Records a node's result and everything that follows from it.</summary>
    public async ValueTask ApplyAsync(Transaction tx, string nodeId, NodeResult result, bool instant)
    {
        var doc = tx.Doc;
        var state = doc.Nodes[nodeId];
        state.Revision++;
        switch (result.Outcome)
        {
            case NodeOutcome.Completed:
                Complete(tx, nodeId, state, result.Output, result.Branch);
                break;
            case NodeOutcome.Waiting:
                Wait(tx, nodeId, state, result.Wait!);
                break;
            default:
                Fail(tx, nodeId, state, result.Error!, instant);
                break;
        }

        await CascadeAsync(tx);
    }

    /// <summary>Marks the start node done with the run's inputs and advances the graph.</summary>
    public ValueTask StartAsync(Transaction tx)
    {
        var doc = tx.Doc;
        doc.Status = ExecutionStatus.Running;
        doc.StartedAt ??= tx.Now;
        tx.Emit(EventTypes.ExecutionStarted, null, new JsonObject { ["workflowId"] = doc.WorkflowId, ["version"] = doc.Version });
        var start = doc.Definition.Nodes.First(n => n.Type == "start");
        var state = doc.Nodes[start.Id];
        state.Revision++;
        state.Attempts = 1;
        state.StartedAt = tx.Now;
        Complete(tx, start.Id, state, doc.Inputs.DeepClone(), null);
        return CascadeAsync(tx);
    }

    /// <summary>Ends the run as failed (or cancelled / timed out), cancelling what is still active.</summary>
    public void EndUnsuccessfully(Transaction tx, string status, RunError error)
    {
        var doc = tx.Doc;
        foreach (var (id, state) in doc.Nodes)
        {
            if (state.Status is NodeStatus.Scheduled or NodeStatus.Running or NodeStatus.Waiting)
            {
                if (state.Wait is { } wait)
                {
                    tx.ChildrenToStop.AddRange(wait.Children.Where(c => !wait.ChildResults.ContainsKey(c.Key)).Select(c => c.Value));
                }

                state.Status = NodeStatus.Cancelled;
                state.CompletedAt = tx.Now;
                state.Revision++;
            }
        }

        doc.Status = status;
        doc.Error = error;
        doc.CompletedAt = tx.Now;
        tx.BecameTerminal = true;
        tx.Emit(EventTypes.ExecutionFailed, error.NodeId, new JsonObject
        {
            ["status"] = status,
            ["error"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message, ["nodeId"] = error.NodeId },
        });
    }

    /// <summary>Puts the nodes a retry runs again (failed or cancelled ones and what lies after them) back to pending.</summary>
    public static void ResetUnfinished(ExecutionDocument doc)
    {
        var reset = new HashSet<string>(doc.Nodes.Where(n => n.Value.Status is NodeStatus.Failed or NodeStatus.Cancelled).Select(n => n.Key), StringComparer.Ordinal);
        var frontier = new Queue<string>(reset);
        while (frontier.TryDequeue(out var id))
        {
            foreach (var edge in doc.Definition.Edges.Where(e => e.Source == id))
            {
                if (doc.Nodes[edge.Target].Status is NodeStatus.Skipped or NodeStatus.Cancelled or NodeStatus.Pending && reset.Add(edge.Target))
                {
                    frontier.Enqueue(edge.Target);
                }
            }
        }

        foreach (var id in reset)
        {
            doc.Nodes[id] = new NodeState { Revision = doc.Nodes[id].Revision + 1 };
        }
    }

    /// <summary>
    /// Puts nodes that were mid-way when their orchestration was lost (scheduled, running or waiting in a run the
    /// sweep restarts, e.g. one left by the engine before Durable Task) back to pending, so they run again.
    /// </summary>
    public static void ResetInterrupted(ExecutionDocument doc)
    {
        foreach (var id in doc.Nodes.Where(n => n.Value.Status is NodeStatus.Scheduled or NodeStatus.Running or NodeStatus.Waiting).Select(n => n.Key).ToList())
        {
            doc.Nodes[id] = new NodeState { Revision = doc.Nodes[id].Revision + 1 };
        }
    }

    /// <summary>Resolves a node's config against the run's current state, leaving the type's literal fields as written.</summary>
    public static JsonObject ResolveConfig(ExecutionDocument doc, NodeDefinition node, INodeType type) => NodeAttempts.ResolveConfig(node, type, new RunScope(doc));

    /// <summary>The context an attempt or resume of <paramref name="node"/> runs with.</summary>
    public static NodeContext BuildContext(ExecutionDocument doc, NodeDefinition node, JsonObject config, int attempt, TimeProvider clock,
        Func<string, JsonObject?, CancellationToken, Task<bool>>? emitter = null)
    {
        var state = doc.Nodes[node.Id];
        var predecessors = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var edge in doc.Definition.Edges.Where(e => e.Target == node.Id))
        {
            if (IsLive(edge, doc.Nodes[edge.Source]))
            {
                predecessors[edge.Source] = doc.Nodes[edge.Source].Output;
            }
        }

        return new NodeContext
        {
            ExecutionId = doc.Id,
            WorkspaceId = doc.WorkspaceId,
            WorkflowId = doc.WorkflowId,
            AppId = doc.Metadata?["appId"] is JsonValue app && app.TryGetValue<string>(out var appId) ? appId : null,
            Node = node,
            Config = config,
            RunInputs = doc.Inputs,
            Attempt = attempt,
            Clock = clock,
            Scope = new RunScope(doc),
            PredecessorOutputs = predecessors,
            UpstreamSource = () => UpstreamOutputs(doc, node.Id),
            WaitState = state.Wait?.State,
            Children = state.Wait?.ChildResults ?? [],
            EventPayload = state.Wait?.EventPayload,
            Emitter = emitter,
            Principal = doc.Principal,
            Generation = doc.Retries,
        };
    }

    /// <summary>The outputs of the succeeded nodes with a path to <paramref name="nodeId"/>.</summary>
    private static Dictionary<string, JsonNode?> UpstreamOutputs(ExecutionDocument doc, string nodeId)
    {
        var incoming = doc.Definition.Edges.ToLookup(e => e.Target, e => e.Source, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal) { nodeId };
        var frontier = new Queue<string>([nodeId]);
        var outputs = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        while (frontier.TryDequeue(out var id))
        {
            foreach (var source in incoming[id])
            {
                if (seen.Add(source))
                {
                    frontier.Enqueue(source);
                    if (doc.Nodes.TryGetValue(source, out var state) && state.Status == NodeStatus.Succeeded)
                    {
                        outputs[source] = state.Output;
                    }
                }
            }
        }

        return outputs;
    }

    private static void Complete(Transaction tx, string nodeId, NodeState state, JsonNode? output, string? branch)
    {
        state.Status = NodeStatus.Succeeded;
        state.Output = output;
        state.Branch = branch;
        state.CompletedAt = tx.Now;
        state.Wait = null;
        tx.Emit(EventTypes.NodeOutput, nodeId, new JsonObject { ["output"] = output?.DeepClone(), ["branch"] = branch, ["attempt"] = state.Attempts });
    }

    private void Wait(Transaction tx, string nodeId, NodeState state, WaitRequest request)
    {
        var entering = state.Status != NodeStatus.Waiting;
        state.Status = NodeStatus.Waiting;
        var wait = state.Wait ??= new WaitState { Since = tx.Now };
        if (request.State is not null)
        {
            wait.State = request.State;
        }

        if (request.Until is { } until)
        {
            wait.Until = until;
            tx.Enqueue.Add((new WorkItem(nodeId, state.Attempts, WorkItem.Resume), until > tx.Now ? until - tx.Now : null));
        }

        if (request.EventName is not null)
        {
            wait.EventName = request.EventName;
            wait.Prompt = request.Prompt;
        }

        foreach (var child in request.Children ?? [])
        {
            if (!wait.Children.ContainsKey(child.Key))
            {
                var childId = ChildId(tx.Doc.Id, tx.Doc.Retries, nodeId, child.Key);
                wait.Children[child.Key] = childId;
                tx.ChildrenToCreate.Add((childId, nodeId, child));
            }
        }

        if (entering)
        {
            tx.Emit(EventTypes.NodeWaiting, nodeId, new JsonObject
            {
                ["until"] = wait.Until?.ToString("O"),
                ["event"] = wait.EventName,
                ["children"] = wait.Children.Count,
            });
        }
    }

    private void Fail(Transaction tx, string nodeId, NodeState state, NodeError error, bool instant)
    {
        var node = tx.Doc.NodeDefinition(nodeId);
        var settings = NodeSettings.From(node.Config);
        state.Error = error;
        state.Wait = null;
        if (!instant && error.Retryable && state.Attempts < settings.MaxAttempts)
        {
            var delay = settings.BackoffBefore(state.Attempts + 1);
            state.Status = NodeStatus.Scheduled;
            tx.Enqueue.Add((new WorkItem(nodeId, state.Attempts + 1, WorkItem.Node), delay > TimeSpan.Zero ? delay : null));
            tx.Emit(EventTypes.NodeRetry, nodeId, new JsonObject
            {
                ["attempt"] = state.Attempts,
                ["nextAttempt"] = state.Attempts + 1,
                ["delaySeconds"] = delay.TotalSeconds,
                ["error"] = ErrorJson(error),
            });
            return;
        }

        switch (settings.OnError)
        {
            case ErrorStrategy.Default:
                state.UsedDefault = true;
                Complete(tx, nodeId, state, Templates.Resolve(settings.DefaultOutput, new RunScope(tx.Doc)), null);
                return;
            case ErrorStrategy.Branch:
                Complete(tx, nodeId, state, new JsonObject { ["error"] = ErrorJson(error) }, Handles.Error);
                return;
            default:
                state.Status = NodeStatus.Failed;
                state.CompletedAt = tx.Now;
                tx.Emit(EventTypes.NodeFailed, nodeId, new JsonObject { ["error"] = ErrorJson(error), ["attempts"] = state.Attempts });
                EndUnsuccessfully(tx, ExecutionStatus.Failed, new RunError(error.Code, error.Message, nodeId));
                return;
        }
    }

    /// <summary>
    /// Dead-path elimination: a node whose incoming edges are all settled runs when at least one is live and is
    /// skipped when none is. Instant nodes run right here; others get a work item. Repeats until nothing changes.
    /// </summary>
    public async ValueTask CascadeAsync(Transaction tx)
    {
        var doc = tx.Doc;
        var incoming = doc.Definition.Edges.GroupBy(e => e.Target).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        bool progressed;
        do
        {
            progressed = false;
            foreach (var node in doc.Definition.Nodes)
            {
                if (ExecutionStatus.IsTerminal(doc.Status))
                {
                    return;
                }

                var state = doc.Nodes[node.Id];
                if (state.Status != NodeStatus.Pending || node.Type == "start")
                {
                    continue;
                }

                var edges = incoming.GetValueOrDefault(node.Id) ?? [];
                if (edges.Any(e => !IsSettled(doc.Nodes[e.Source])))
                {
                    continue;
                }

                progressed = true;
                state.Revision++;
                if (!edges.Any(e => IsLive(e, doc.Nodes[e.Source])))
                {
                    state.Status = NodeStatus.Skipped;
                    state.CompletedAt = tx.Now;
                    continue;
                }

                var type = registry.Get(node.Type);
                if (!type.Descriptor.IsInstant)
                {
                    state.Status = NodeStatus.Scheduled;
                    tx.Enqueue.Add((new WorkItem(node.Id, state.Attempts + 1, WorkItem.Node), null));
                    continue;
                }

                await RunInstantAsync(tx, node, type, state);
            }
        }
        while (progressed);

        UpdateRunStatus(tx);
    }

    private async ValueTask RunInstantAsync(Transaction tx, NodeDefinition node, INodeType type, NodeState state)
    {
        var config = ResolveConfig(tx.Doc, node, type);
        state.Attempts++;
        state.StartedAt ??= tx.Now;
        state.Input = config;
        NodeResult result;
        try
        {
            result = await type.ExecuteAsync(BuildContext(tx.Doc, node, config, state.Attempts, clock), CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            result = NodeResult.Fail("NODE_ERROR", exception.Message, retryable: false);
        }

        // An instant node never waits; one that tried to is a bug in the node type, reported as its failure.
        if (result.Outcome == NodeOutcome.Waiting)
        {
            result = NodeResult.Fail("NODE_ERROR", $"Instant node type {type.Descriptor.Type} cannot wait.", retryable: false);
        }

        if (result.Outcome == NodeOutcome.Completed)
        {
            Complete(tx, node.Id, state, result.Output, result.Branch);
        }
        else
        {
            Fail(tx, node.Id, state, result.Error!, instant: true);
        }
    }

    private static void UpdateRunStatus(Transaction tx)
    {
        var doc = tx.Doc;
        if (ExecutionStatus.IsTerminal(doc.Status))
        {
            return;
        }

        var states = doc.Nodes.Values;
        if (states.All(s => NodeStatus.IsTerminal(s.Status) || s.Status == NodeStatus.Pending))
        {
            var outputs = new JsonObject();
            foreach (var end in doc.Definition.Nodes.Where(n => n.Type == "end" && doc.Nodes[n.Id].Status == NodeStatus.Succeeded))
            {
                foreach (var (key, value) in doc.Nodes[end.Id].Output as JsonObject ?? [])
                {
                    outputs[key] = value?.DeepClone();
                }
            }

            doc.Status = ExecutionStatus.Succeeded;
            doc.Outputs = outputs;
            doc.CompletedAt = tx.Now;
            tx.BecameTerminal = true;
            tx.Emit(EventTypes.ExecutionCompleted, null, new JsonObject
            {
                ["outputs"] = outputs.DeepClone(),
                ["durationMs"] = (long)(tx.Now - (doc.StartedAt ?? doc.CreatedAt)).TotalMilliseconds,
            });
            return;
        }

        ReportProgress(tx);
        var active = states.Any(s => s.Status is NodeStatus.Scheduled or NodeStatus.Running);
        var next = active ? ExecutionStatus.Running : ExecutionStatus.Waiting;
        if (next != doc.Status)
        {
            tx.Emit(next == ExecutionStatus.Waiting ? EventTypes.ExecutionPaused : EventTypes.ExecutionResumed, null, null);
            doc.Status = next;
        }
    }

    /// <summary>
    /// One <c>execution.progress</c> event per step that changed what is done or what is under way: nodes done of all
    /// nodes and the nodes the run is at (scheduled, running or waiting, in definition order, the first
    /// <see cref="MaxReportedNodes"/> of them). A step that only moves a node from scheduled to running, or into a wait or a
    /// retry, reports nothing new; a fan-out of n nodes is one event when it starts and one per node that ends. The step
    /// that ends the run reports nothing: its execution.completed or execution.failed says it. Computed from the document
    /// alone, so a replay reports the same.
    /// </summary>
    private static void ReportProgress(Transaction tx)
    {
        var doc = tx.Doc;
        var completed = doc.Nodes.Values.Count(s => NodeStatus.IsTerminal(s.Status));
        var current = doc.Definition.Nodes
            .Where(n => doc.Nodes[n.Id].Status is NodeStatus.Scheduled or NodeStatus.Running or NodeStatus.Waiting).ToList();
        var key = completed.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + string.Join(",", current.Select(n => n.Id));
        if (key == doc.ReportedProgress)
        {
            return;
        }

        doc.ReportedProgress = key;
        var total = doc.Nodes.Count;
        tx.Emit(EventTypes.ExecutionProgress, null, new JsonObject
        {
            ["completedNodes"] = completed,
            ["totalNodes"] = total,
            ["percent"] = total == 0 ? 0 : completed * 100 / total,
            ["currentNodes"] = new JsonArray([.. current.Take(MaxReportedNodes).Select(n => (JsonNode)new JsonObject { ["nodeId"] = n.Id, ["type"] = n.Type })]),
            ["currentCount"] = current.Count,
        });
    }

    /// <summary>Current nodes named in one progress event; a wide fan-out is counted in full but named only in part.</summary>
    public const int MaxReportedNodes = 20;

    /// <summary>Whether the edge carries flow: its source succeeded on the branch the edge follows.</summary>
    public static bool IsLive(EdgeDefinition edge, NodeState source) =>
        source.Status == NodeStatus.Succeeded && Handles.Of(edge) == (source.Branch ?? Handles.Default);

    private static bool IsSettled(NodeState source) =>
        source.Status is NodeStatus.Succeeded or NodeStatus.Skipped or NodeStatus.Failed or NodeStatus.Cancelled;

    /// <summary>
    /// The deterministic id of a node's child run, so creating it twice creates it once. A retried parent's children
    /// are new runs: the generation keeps them apart from the first try's.
    /// </summary>
    public static string ChildId(string parentId, int generation, string nodeId, string key) =>
        generation == 0 ? $"{parentId}.{nodeId}.{key}" : $"{parentId}.r{generation}.{nodeId}.{key}";

    private static JsonObject ErrorJson(NodeError error) =>
        new() { ["code"] = error.Code, ["message"] = error.Message, ["details"] = error.Details?.DeepClone() };
}
