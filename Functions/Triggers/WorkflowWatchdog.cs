using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Triggers;

/// <summary>Timer: re-drives runs that stopped making progress (a crash, a lost message) and ends runs past their timeout.</summary>
internal sealed class WorkflowWatchdog(WorkflowEngine engine) : ITriggerFunction
{
    public string Name => "WorkflowWatchdog";

    public async Task<TriggerOutcome> InvokeAsync(TriggerRequest request, CancellationToken cancellationToken)
    {
        var report = await engine.RedriveAsync(cancellationToken);
        return new TriggerOutcome([$"Checked {report.Checked} runs, re-drove {report.Redriven} steps, timed out {report.TimedOut}."], report);
    }
}
