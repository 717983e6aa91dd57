using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Functions.Platform.Durable;

namespace Serverless.Functions.Features.WorkflowTriggers;

/// <summary>The workflow triggers' timer (run by the Functions host, or standalone by the trigger host).</summary>
public sealed class WorkflowTriggersFunctions(IServiceProvider services)
{
    public const string FireSchedule = "0 * * * * *";

    /// <summary>Starts one run for each due slot of every schedule trigger (once across instances).</summary>
    [Function(nameof(FireScheduledTriggers))]
    public async Task FireScheduledTriggers([TimerTrigger(FireSchedule)] TimerInfo timer, [DurableClient] DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        using var scope = DurableClientScope.Enter(durable);
        await services.GetRequiredService<FireScheduledTriggers>().RunAsync(cancellationToken);
    }
}
