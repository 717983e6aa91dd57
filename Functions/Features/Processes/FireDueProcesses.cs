using Serverless.Functions.Platform.Scheduling;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Processes;

/// <summary>
/// Starts the time-based processes that are due, as schedule triggers do: each instance's timer reads the due index
/// up to now, and a slot is taken by inserting its claim row before the run starts, so every slot starts at most one
/// run however many instances tick at once. A process that missed slots while the app was down fires once, for the
/// latest of them.
/// </summary>
internal sealed class FireDueProcesses(ProcessStore processes, ProcessExecutor executor, TimeProvider time, ILogger<FireDueProcesses> logger)
{
    private const int BatchSize = 200;

    /// <summary>Fires what is due now; returns the number of slots this instance took.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var fired = 0;
        foreach (var (dueAt, due) in await processes.DueAsync(now, BatchSize, cancellationToken))
        {
            var process = await processes.GetAsync(due.WorkspaceId, due.ProcessId, cancellationToken);
            if (process is not { IsActive: true, TriggerType: ProcessTriggers.TimeBased } || process.NextRun != dueAt
                || CronSchedule.Parse(process.Schedule) is not { } cron || CronSchedule.FindZone(process.Timezone) is not { } zone)
            {
                // Deleted, changed, or already moved on by another instance: the row is stale.
                await processes.DropDueAsync(dueAt, due.ProcessId, cancellationToken);
                continue;
            }

            var slot = cron.LatestUpTo(dueAt, now, zone);
            if (await processes.ClaimSlotAsync(process.Id, slot, cancellationToken))
            {
                await executor.StartAsync(process, new ProcessStart(ProcessStart.Schedule, new RunPrincipal(process.CreatedBy, null, null), slot), cancellationToken);
                fired++;
            }
            else
            {
                ProcessesLog.SlotTaken(logger, process.Id, slot);
            }

            var next = cron.NextAfter(slot > now ? slot : now, zone);
            await processes.UpdateAsync(process.WorkspaceId, process.Id, p => p.NextRun == dueAt ? p with { NextRun = next } : null, cancellationToken);
            await processes.DropDueAsync(dueAt, process.Id, cancellationToken);
        }

        return fired;
    }
}
