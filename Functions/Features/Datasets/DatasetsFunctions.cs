using Microsoft.Azure.Functions.Worker;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.Datasets;

/// <summary>The datasets feature's queue and timer functions (run by the Functions host, or standalone by the trigger host).</summary>
public sealed class DatasetsFunctions(IServiceProvider services)
{
    public const string WatchdogSchedule = "0 */5 * * * *";

    /// <summary>Ingests one document version; on the last delivery a failure becomes the document's error status.</summary>
    [Function(nameof(IngestDocument))]
    public async Task IngestDocument(
        [QueueTrigger(DocumentIngestion.QueueName, Connection = TriggerFunctions.Connection)] string message, long dequeueCount, CancellationToken cancellationToken) =>
        DatasetsLog.Ingested(Logger, await Get<IngestDocument>().RunAsync(message, dequeueCount, cancellationToken));

    /// <summary>Re-queues the ingestion of documents left waiting by a lost message.</summary>
    [Function(nameof(IngestionWatchdog))]
    public async Task IngestionWatchdog([TimerTrigger(WatchdogSchedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        var (_, requeued) = await Get<IngestionWatchdog>().RunAsync(cancellationToken);
        if (requeued > 0)
        {
            DatasetsLog.Requeued(Logger, requeued);
        }
    }

    private ILogger Logger => services.GetRequiredService<ILogger<DatasetsFunctions>>();

    private T Get<T>() where T : notnull => services.GetRequiredService<T>();
}
