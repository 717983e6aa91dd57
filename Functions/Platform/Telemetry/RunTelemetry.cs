using System.Diagnostics;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Runtime;
using static Serverless.Functions.Platform.Telemetry.PlatformTelemetry;
using Attr = Serverless.Functions.Platform.Telemetry.PlatformTelemetry.Attributes;

namespace Serverless.Functions.Platform.Telemetry;

/// <summary>
/// Workflow runs as spans and metrics. A run is written as one <c>workflow.run</c> span with a <c>workflow.node</c>
/// child per node that ran, when it ends (backdated to when it started: a run may outlive the process that started
/// it); each attempt of a node with effects is a live <c>workflow.node.attempt</c> span in the same trace, so the model
/// and HTTP calls the node makes nest under it. Observes committed changes, so a run's end is seen once, wherever it
/// happened (the orchestration's end, or a stop from the API).
/// </summary>
internal sealed class RunTelemetry : IExecutionObserver, INodeAttemptObserver
{
    public void OnCommitted(ExecutionDocument document, IReadOnlyList<ExecutionEvent> events)
    {
        var ended = false;
        foreach (var e in events)
        {
            if (e.Type == EventTypes.ExecutionStarted)
            {
                RunsStartedCounter.Add(1);
            }
            else if (EventTypes.IsTerminal(e.Type))
            {
                ended = true;
            }
        }

        if (ended && ExecutionStatus.IsTerminal(document.Status))
        {
            RunEnded(document);
        }
    }

    public INodeAttemptScope? OnAttemptStarting(ExecutionDocument run, NodeDefinition node, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;
        var span = Source.StartActivity(Spans.NodeAttempt, ActivityKind.Internal, RunContext(run.Id, run.Retries));
        if (span is null)
        {
            return null;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(Attr.RunId, run.Id);
            span.SetTag(Attr.WorkflowId, run.WorkflowId);
            span.SetTag(Attr.NodeId, node.Id);
            span.SetTag(Attr.NodeType, node.Type);
            span.SetTag(Attr.NodeAttempt, attempt);
        }

        return new AttemptScope(span, previous);
    }

    private static void RunEnded(ExecutionDocument run)
    {
        var end = run.CompletedAt ?? run.UpdatedAt;
        var start = run.StartedAt ?? run.CreatedAt;
        var status = new KeyValuePair<string, object?>(Attr.RunStatus, run.Status);
        RunsFinishedCounter.Add(1, status);
        if (run.Status is ExecutionStatus.Failed or ExecutionStatus.TimedOut)
        {
            RunsFailedCounter.Add(1, status);
        }

        RunDurationHistogram.Record(Seconds(start, end), status);
        if (NodeDurationHistogram.Enabled)
        {
            foreach (var node in run.Definition.Nodes)
            {
                if (run.Nodes.TryGetValue(node.Id, out var state) && state.StartedAt is { } started && NodeStatus.IsTerminal(state.Status))
                {
                    NodeDurationHistogram.Record(Seconds(started, state.CompletedAt ?? end),
                        new KeyValuePair<string, object?>(Attr.NodeType, node.Type), new KeyValuePair<string, object?>(Attr.NodeStatus, state.Status));
                }
            }
        }

        if (Source.HasListeners())
        {
            // The run span's parent is the run's derived context, not the current span: when it stops, it would leave
            // no current span behind for the rest of the flow that ended the run (a stop request, say).
            var current = Activity.Current;
            try
            {
                WriteSpans(run, start, end);
            }
            finally
            {
                Activity.Current = current;
            }
        }
    }

    private static void WriteSpans(ExecutionDocument run, DateTimeOffset start, DateTimeOffset end)
    {
        using var span = Source.StartActivity(Spans.Run, ActivityKind.Internal, RunContext(run.Id, run.Retries), startTime: start);
        if (span is null)
        {
            return;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(Attr.RunId, run.Id);
            span.SetTag(Attr.WorkflowId, run.WorkflowId);
            span.SetTag(Attr.WorkflowVersion, run.Version);
            span.SetTag(Attr.WorkspaceId, run.WorkspaceId);
            span.SetTag(Attr.RunStatus, run.Status);
            span.SetTag(Attr.RunGeneration, run.Retries);
            span.SetTag(Attr.ParentRunId, run.ParentExecutionId);
            if (run.Status != ExecutionStatus.Succeeded)
            {
                span.SetTag(Attr.ErrorType, run.Error?.Code ?? run.Status);
                span.SetStatus(ActivityStatusCode.Error, run.Error?.Message);
            }

            foreach (var node in run.Definition.Nodes)
            {
                if (run.Nodes.TryGetValue(node.Id, out var state) && state.StartedAt is { } started)
                {
                    WriteNodeSpan(run, node, state, started, state.CompletedAt ?? end);
                }
            }
        }

        span.SetEndTime(end.UtcDateTime);
    }

    private static void WriteNodeSpan(ExecutionDocument run, NodeDefinition node, NodeState state, DateTimeOffset start, DateTimeOffset end)
    {
        // A child of the run span, which is Activity.Current here.
        using var span = Source.StartActivity(Spans.Node, ActivityKind.Internal, parentContext: default, startTime: start);
        if (span is null)
        {
            return;
        }

        span.SetTag(Attr.RunId, run.Id);
        span.SetTag(Attr.NodeId, node.Id);
        span.SetTag(Attr.NodeType, node.Type);
        span.SetTag(Attr.NodeStatus, state.Status);
        span.SetTag(Attr.NodeAttempts, state.Attempts);
        if (state.Status == NodeStatus.Failed)
        {
            span.SetTag(Attr.ErrorType, state.Error?.Code);
            span.SetStatus(ActivityStatusCode.Error, state.Error?.Message);
        }

        span.SetEndTime(end.UtcDateTime);
    }

    private static double Seconds(DateTimeOffset from, DateTimeOffset to) => Math.Max(0, (to - from).TotalSeconds);

    private sealed class AttemptScope(Activity span, Activity? previous) : INodeAttemptScope
    {
        public void OnAttemptEnded(Orchestrations.Nodes.NodeResult result)
        {
            if (result.Outcome == Orchestrations.Nodes.NodeOutcome.Failed && span.IsAllDataRequested)
            {
                span.SetTag(Attr.ErrorType, result.Error?.Code);
                span.SetStatus(ActivityStatusCode.Error, result.Error?.Message);
            }
        }

        public void Dispose()
        {
            span.Stop();
            Activity.Current = previous;
        }
    }
}
