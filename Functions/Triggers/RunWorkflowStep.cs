using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Triggers;

/// <summary>Queue: one step of the workflow engine (start a run, run a node attempt, resume a waiting node).</summary>
internal sealed class RunWorkflowStep(WorkflowEngine engine) : ITriggerFunction
{
    public string Name => "RunWorkflowStep";

    public async Task<TriggerOutcome> InvokeAsync(TriggerRequest request, CancellationToken cancellationToken)
    {
        var text = request.Text("message");
        if (text is null || WorkItem.Parse(text) is not { } item)
        {
            // A message that is not a work item will never become one; retrying it only delays its removal.
            return new TriggerOutcome(["Ignored a message that is not a work item."], null);
        }

        await engine.HandleAsync(item, cancellationToken);
        return new TriggerOutcome([$"{item.Kind} {item.ExecutionId} {item.NodeId}"], null);
    }
}
