namespace Serverless.Functions.Features.Datasets;

/// <summary>Queue: ingests one document version from the <c>dataset-ingest</c> queue (the <c>IngestDocument</c> function).</summary>
internal sealed class IngestDocument(DocumentIngestion ingestion, ILogger<IngestDocument> logger)
{
    /// <summary>The host's maxDequeueCount (host.json): on this delivery a failure becomes the document's error status.</summary>
    private const int LastDelivery = 5;

    /// <summary>Returns what happened, for the log (ingested, skipped as stale or duplicate, ignored).</summary>
    public async Task<string> RunAsync(string message, long dequeueCount, CancellationToken cancellationToken)
    {
        if (IngestMessage.Parse(message) is not { } request)
        {
            // A message that is not an ingestion request never becomes one; retrying it only delays its removal.
            DatasetsLog.IgnoredIngestMessage(logger);
            return "Ignored a message that is not an ingestion request.";
        }

        return await ingestion.IngestAsync(request, dequeueCount >= LastDelivery, cancellationToken);
    }
}
