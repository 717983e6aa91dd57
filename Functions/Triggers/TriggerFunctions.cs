using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Functions.Platform.Durable;
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
    public const string WorkflowSweepSchedule = "*/30 * * * * *";

    [Function(nameof(CleanupExpiredRecords))]
    public async Task CleanupExpiredRecords([TimerTrigger(CleanupSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        TriggersLog.CleanedUp(Logger, await Get<CleanupExpiredRecords>().RunAsync(cancellationToken));

    /// <summary>
    /// Repairs what a crash can leave between the run store and the orchestrations: accepted runs whose orchestration
    /// was never scheduled are started, slots of runs that ended without freeing them are freed.
    /// </summary>
    [Function(nameof(SweepWorkflowRuns))]
    public async Task SweepWorkflowRuns([TimerTrigger(WorkflowSweepSchedule, RunOnStartup = true)] TimerInfo timer, [DurableClient] DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        using var scope = DurableClientScope.Enter(durable);
        var report = await Get<WorkflowRuns>().SweepAsync(cancellationToken);
        if (report.Started > 0 || report.Released > 0)
        {
            TriggersLog.Swept(Logger, report.Checked, report.Started, report.Released);
        }
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
    public async Task DispatchPlatformEvent(
        [QueueTrigger(PlatformEventMessage.QueueName, Connection = Connection)] string message, [DurableClient] DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        using var scope = DurableClientScope.Enter(durable);
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
