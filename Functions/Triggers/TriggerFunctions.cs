using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Platform.Events;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Triggers;

/// <summary>
/// The platform's own timer and queue functions (a feature's live with the feature, e.g. <c>DatasetsFunctions</c>). In
/// worker mode the Functions host runs them from these attributes (functions.metadata is built from them); standalone,
/// <see cref="StandaloneTriggerHost"/> reads the same attributes (<see cref="TriggerCatalog"/>) and calls the same
/// methods. Schedules are six-field NCRONTAB (seconds first); queue retries and poisoning follow host.json's
/// <c>extensions.queues</c> in both modes.
/// </summary>
public sealed class TriggerFunctions(IServiceProvider services)
{
    /// <summary>The storage connection of every queue trigger (the host's own storage account).</summary>
    public const string Connection = "AzureWebJobsStorage";
    public const string CleanupSchedule = "0 */5 * * * *";
    public const string WorkflowWatchdogSchedule = "*/10 * * * * *";

    [Function(nameof(CleanupExpiredRecords))]
    public async Task CleanupExpiredRecords([TimerTrigger(CleanupSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        TriggersLog.CleanedUp(Logger, await Get<CleanupExpiredRecords>().RunAsync(cancellationToken));

    /// <summary>Re-drives runs that stopped making progress (a crash, a lost message) and ends runs past their timeout.</summary>
    [Function(nameof(WorkflowWatchdog))]
    public async Task WorkflowWatchdog([TimerTrigger(WorkflowWatchdogSchedule, RunOnStartup = true)] TimerInfo timer, CancellationToken cancellationToken)
    {
        var report = await Get<WorkflowEngine>().RedriveAsync(cancellationToken);
        if (report.Redriven > 0 || report.TimedOut > 0)
        {
            TriggersLog.Redriven(Logger, report.Checked, report.Redriven, report.TimedOut);
        }
    }

    /// <summary>One step of the workflow engine: start a run, run a node attempt, resume a waiting node.</summary>
    [Function(nameof(RunWorkflowStep))]
    public async Task RunWorkflowStep([QueueTrigger(EngineOptions.DefaultQueueName, Connection = Connection)] string message, CancellationToken cancellationToken)
    {
        if (WorkItem.Parse(message) is not { } item)
        {
            // A message that is not a work item never becomes one; retrying it only delays its removal.
            TriggersLog.Ignored(Logger, EngineOptions.DefaultQueueName);
            return;
        }

        await Get<WorkflowEngine>().HandleAsync(item, cancellationToken);
    }

    /// <summary>Delivers one mail from the outbox (SMTP, or the log outbox). A message that is not a mail fails, so it ends in poison.</summary>
    [Function(nameof(SendEmail))]
    public async Task SendEmail([QueueTrigger(EmailOutbox.QueueName, Connection = Connection)] string message, CancellationToken cancellationToken)
    {
        var email = JsonSerializer.Deserialize<EmailMessage>(message, JsonSerializerOptions.Web)
            ?? throw new InvalidOperationException("The message is not an email.");
        await Get<IEmailSender>().SendAsync(email, cancellationToken);
    }

    /// <summary>Hands one recorded platform event to every <see cref="IPlatformEventHandler"/> (they dedupe on the event id).</summary>
    [Function(nameof(DispatchPlatformEvent))]
    public async Task DispatchPlatformEvent([QueueTrigger(PlatformEventMessage.QueueName, Connection = Connection)] string message, CancellationToken cancellationToken)
    {
        if (PlatformEventMessage.Parse(message) is not { } target)
        {
            TriggersLog.Ignored(Logger, PlatformEventMessage.QueueName);
            return;
        }

        if (await Get<PlatformEventLog>().GetAsync(target.WorkspaceId, target.EventId, cancellationToken) is not { } platformEvent)
        {
            // Recorded events are never removed while their message is queued, so this one never was (or its workspace went).
            TriggersLog.Ignored(Logger, PlatformEventMessage.QueueName);
            return;
        }

        foreach (var handler in services.GetServices<IPlatformEventHandler>())
        {
            await handler.HandleAsync(platformEvent, cancellationToken);
        }
    }

    private ILogger Logger => services.GetRequiredService<ILogger<TriggerFunctions>>();

    private T Get<T>() where T : notnull => services.GetRequiredService<T>();
}
