using Microsoft.DurableTask;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Orchestrations.Runtime;

/// <summary>Takes a workspace slot for a queued run; false while the workspace is at its cap.</summary>
public sealed class AdmitRunActivity(WorkflowRuns runs) : TaskActivity<string, bool>
{
    /// <inheritdoc />
    public override async Task<bool> RunAsync(TaskActivityContext context, string executionId)
    {
        var run = (await runs.Store.LoadAsync(executionId, CancellationToken.None))?.Document;
        return run is null || await runs.Admission.AdmitAsync(run.WorkspaceId, executionId, force: false, CancellationToken.None);
    }
}

/// <summary>Writes an orchestration checkpoint; returns its version.</summary>
public sealed class SaveRunActivity(WorkflowRuns runs) : TaskActivity<RunCheckpoint, long>
{
    /// <inheritdoc />
    public override async Task<long> RunAsync(TaskActivityContext context, RunCheckpoint checkpoint)
    {
        await runs.Projection.ApplyAsync(checkpoint.ExecutionId, checkpoint, CancellationToken.None);
        return checkpoint.Version;
    }
}

/// <summary>
/// Runs one attempt of a node with effects, after writing the checkpoint it carries (so the API shows the node
/// running). At least once: a crash runs the attempt again, with the same idempotency key.
/// </summary>
public sealed class RunNodeActivity(WorkflowRuns runs) : TaskActivity<NodeAttempt, NodeAttemptResult>
{
    /// <inheritdoc />
    public override async Task<NodeAttemptResult> RunAsync(TaskActivityContext context, NodeAttempt attempt)
    {
        var run = await runs.Projection.ApplyAsync(attempt.ExecutionId, attempt.Checkpoint, CancellationToken.None);
        if (run is null || run.Retries != attempt.Checkpoint.Generation || ExecutionStatus.IsTerminal(run.Status))
        {
            return new NodeAttemptResult(NodeOutcome.Failed, null, null, null, null, attempt.Checkpoint.Version, Abandoned: true);
        }

        var node = run.NodeDefinition(attempt.NodeId);
        var generation = run.Retries;
        var nodeContext = StateMachine.BuildContext(run, node, attempt.Config, attempt.Attempt, runs.Clock,
            (type, data, cancellationToken) => runs.Projection.EmitProgressAsync(attempt.ExecutionId, generation, attempt.NodeId, attempt.Attempt, type, data, cancellationToken));
        var scopes = Observe(runs.AttemptObservers, run, node, attempt.Attempt);
        try
        {
            var result = await NodeAttempts.RunAsync(runs.Registry.Get(node.Type), nodeContext, CancellationToken.None);
            foreach (var scope in scopes)
            {
                scope.OnAttemptEnded(result);
            }

            return NodeAttemptResult.From(result, attempt.Checkpoint.Version);
        }
        finally
        {
            foreach (var scope in scopes)
            {
                scope.Dispose();
            }
        }
    }

    private static INodeAttemptScope[] Observe(INodeAttemptObserver[] observers, ExecutionDocument run, NodeDefinition node, int attempt)
    {
        if (observers.Length == 0)
        {
            return [];
        }

        List<INodeAttemptScope>? scopes = null;
        foreach (var observer in observers)
        {
            if (observer.OnAttemptStarting(run, node, attempt) is { } scope)
            {
                (scopes ??= []).Add(scope);
            }
        }

        return scopes is null ? [] : [.. scopes];
    }
}

/// <summary>
/// Creates the documents of a node's child runs inside the parent's workspace (idempotent: a child that exists is
/// reused). A child whose workflow cannot be found ends at once, failed.
/// </summary>
public sealed class CreateChildRunsActivity(WorkflowRuns runs) : TaskActivity<ChildRunsRequest, CreatedChildRuns>
{
    /// <inheritdoc />
    public override async Task<CreatedChildRuns> RunAsync(TaskActivityContext context, ChildRunsRequest request)
    {
        await runs.Projection.ApplyAsync(request.Parent, request.Checkpoint, CancellationToken.None);
        var runnable = new List<ExecutionDocument>();
        var ended = new List<ChildResult>();
        foreach (var (childId, child) in request.Children)
        {
            var existing = (await runs.Store.LoadAsync(childId, CancellationToken.None))?.Document;
            if (existing is null)
            {
                var entry = await runs.Catalog.FindAsync(request.WorkspaceId, child.WorkflowId, child.Version, CancellationToken.None);
                existing = runs.NewRun(childId, request.WorkspaceId, child.WorkflowId, entry?.Version ?? child.Version ?? 0,
                    entry?.Definition ?? new WorkflowDefinition([], []), child.Inputs, null, (request.Parent, request.NodeId, child.Key),
                    request.Principal); // a child acts for whoever started its parent
                if (entry is null)
                {
                    existing.Status = ExecutionStatus.Failed;
                    existing.Error = new RunError("WORKFLOW_NOT_FOUND", $"Workflow {child.WorkflowId} (version {child.Version?.ToString() ?? "current"}) was not found.", null);
                    existing.CompletedAt = runs.Clock.GetUtcNow();
                }

                if (await runs.Store.InsertAsync(existing, CancellationToken.None) is null)
                {
                    existing = (await runs.Store.LoadAsync(childId, CancellationToken.None))!.Document;
                }
            }

            if (existing.Status == ExecutionStatus.Failed && existing.StartedAt is null)
            {
                ended.Add(new ChildResult(childId, existing.Status, null, existing.Error?.Message));
            }
            else
            {
                runnable.Add(existing);
            }
        }

        return new CreatedChildRuns(runnable, ended, request.Checkpoint.Version);
    }
}

/// <summary>
/// Writes a run's final checkpoint and does what follows its end: for a top-level run the list entry, the freed slot
/// (and the runs it lets start) and the completion listeners. Returns the run's outcome as stored (a stop from the API
/// wins over the orchestration's own end).
/// </summary>
public sealed class EndRunActivity(WorkflowRuns runs) : TaskActivity<RunCheckpoint, RunOutcome>
{
    /// <inheritdoc />
    public override async Task<RunOutcome> RunAsync(TaskActivityContext context, RunCheckpoint checkpoint)
    {
        var run = await runs.Projection.ApplyAsync(checkpoint.ExecutionId, checkpoint, CancellationToken.None);
        if (run is null)
        {
            return new RunOutcome(checkpoint.ExecutionId, checkpoint.Status, checkpoint.Outputs, checkpoint.Error?.Message);
        }

        if (run.ParentExecutionId is null && run.Retries == checkpoint.Generation)
        {
            await runs.Index.UpdateAsync(run, CancellationToken.None);
            await runs.PromoteAsync(await runs.Admission.ReleaseAsync(run.WorkspaceId, run.Id, CancellationToken.None), CancellationToken.None);
            foreach (var listener in runs.CompletionListeners)
            {
                await listener.OnRunEndedAsync(run, CancellationToken.None);
            }
        }

        return new RunOutcome(run.Id, run.Status, run.Outputs, run.Error?.Message);
    }
}
