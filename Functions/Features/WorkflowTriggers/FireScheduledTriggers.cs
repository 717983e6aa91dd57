using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Scheduling;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.WorkflowTriggers;

/// <summary>
/// Starts the runs of schedule triggers that are due. Each instance's timer reads the due index up to now; a slot is
/// taken by inserting its claim row before the run starts, so every slot starts at most one run however many
/// instances tick at once (a crash between the claim and the start loses that one slot rather than doubling it).
/// A trigger that missed slots while the app was down fires once, for the latest of them.
/// </summary>
internal sealed class FireScheduledTriggers(TriggerStore triggers, WorkflowRunner runner, TimeProvider time, ILogger<FireScheduledTriggers> logger)
{
    private const int BatchSize = 200;

    /// <summary>Fires what is due now; returns the number of runs started.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var started = 0;
        foreach (var (dueAt, due) in await triggers.DueAsync(now, BatchSize, cancellationToken))
        {
            var trigger = await triggers.GetAsync(due.WorkflowId, due.TriggerId, cancellationToken);
            if (trigger is not { Active: true, Type: TriggerTypes.Schedule } || trigger.NextRunAt != dueAt
                || CronSchedule.Parse(trigger.Cron) is not { } cron || CronSchedule.FindZone(trigger.Timezone) is not { } zone)
            {
                // Deleted, or already moved on by another instance: the row is stale.
                await triggers.DropDueAsync(dueAt, due.TriggerId, cancellationToken);
                continue;
            }

            var slot = cron.LatestUpTo(dueAt, now, zone);
            string? executionId = null;
            if (await triggers.ClaimAsync(trigger.Id, slot, cancellationToken))
            {
                executionId = await StartAsync(trigger, slot, cancellationToken);
                started += executionId is null ? 0 : 1;
            }
            else
            {
                WorkflowTriggersLog.AlreadyClaimed(logger, trigger.Id, slot);
            }

            await triggers.AdvanceAsync(trigger, dueAt, slot, cron.NextAfter(slot > now ? slot : now, zone), executionId, cancellationToken);
        }

        return started;
    }

    private async Task<string?> StartAsync(TriggerRecord trigger, DateTimeOffset slot, CancellationToken cancellationToken)
    {
        var inputs = trigger.Inputs.DeepClone().AsObject();
        var (run, error) = await runner.StartAsync(trigger.WorkspaceId, trigger.WorkflowId, null, inputs, null,
            new RunPrincipal(trigger.CreatedBy, null, null), cancellationToken);
        if (run is null)
        {
            WorkflowTriggersLog.NotStarted(logger, trigger.Id, trigger.WorkflowId, slot, (error as Microsoft.AspNetCore.Http.IStatusCodeHttpResult)?.StatusCode ?? 0);
            return null;
        }

        WorkflowTriggersLog.Fired(logger, trigger.Id, trigger.WorkflowId, slot, run.Id);
        return run.Id;
    }
}
