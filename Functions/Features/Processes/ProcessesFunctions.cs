using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Functions.Platform.Durable;

namespace Serverless.Functions.Features.Processes;

/// <summary>The processes' timer (run by the Functions host, or standalone by the trigger host).</summary>
public sealed class ProcessesFunctions(IServiceProvider services)
{
    public const string FireSchedule = "0 * * * * *";

    /// <summary>Starts one run for each due slot of every time-based process (once across instances).</summary>
    [Function(nameof(FireDueProcesses))]
    public async Task FireDueProcesses([TimerTrigger(FireSchedule)] TimerInfo timer, [DurableClient] DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        using var scope = DurableClientScope.Enter(durable);
        await services.GetRequiredService<FireDueProcesses>().RunAsync(cancellationToken);
    }
}
