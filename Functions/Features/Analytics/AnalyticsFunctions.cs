using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.Analytics;

/// <summary>The analytics feature's queue and timer functions (run by the Functions host, or standalone by the trigger host).</summary>
public sealed class AnalyticsFunctions(IServiceProvider services)
{
    public const string AlertSchedule = "0 * * * * *";
    public const string RetentionSchedule = "0 17 * * * *";

    /// <summary>Writes one export's file. A message that is not an export fails, so it ends in poison.</summary>
    [Function(nameof(RunAnalyticsExport))]
    public async Task RunAnalyticsExport([QueueTrigger(ExportMessage.QueueName, Connection = TriggerFunctions.Connection)] string message, CancellationToken cancellationToken)
    {
        var export = JsonSerializer.Deserialize<ExportMessage>(message, JsonSerializerOptions.Web) is { WorkspaceId.Length: > 0, ExportId.Length: > 0 } parsed
            ? parsed
            : throw new InvalidOperationException("The message is not an analytics export.");
        await Get<AnalyticsExports>().RunAsync(export, cancellationToken);
    }

    /// <summary>Evaluates every enabled alert once a minute.</summary>
    [Function(nameof(EvaluateAlerts))]
    public Task EvaluateAlerts([TimerTrigger(AlertSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        Get<AlertStore>().EvaluateAllAsync(cancellationToken);

    /// <summary>Deletes usage rows past their retention and five-minute cells past alert windows, hourly.</summary>
    [Function(nameof(SweepAnalytics))]
    public Task SweepAnalytics([TimerTrigger(RetentionSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        Get<AnalyticsRetention>().SweepAsync(cancellationToken);

    private T Get<T>() where T : notnull => services.GetRequiredService<T>();
}
