using System.Text.Json;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.Datasets;

/// <summary>Queue: ingests one document version from the <c>dataset-ingest</c> queue.</summary>
internal sealed class IngestDocument(DocumentIngestion ingestion) : ITriggerFunction
{
    /// <summary>The host's maxDequeueCount (host.json): on this delivery a failure becomes the document's error status.</summary>
    private const int LastDelivery = 5;

    public string Name => "IngestDocument";

    public async Task<TriggerOutcome> InvokeAsync(TriggerRequest request, CancellationToken cancellationToken)
    {
        var text = request.Text("message");
        if (text is null || IngestMessage.Parse(text) is not { } message)
        {
            // A message that is not an ingestion request never becomes one; retrying it only delays its removal.
            return new TriggerOutcome(["Ignored a message that is not an ingestion request."], null);
        }

        var dequeueCount = request.Metadata is not null && request.Metadata.TryGetValue("DequeueCount", out var count)
            && count.ValueKind == JsonValueKind.Number ? count.GetInt32() : 1;
        var log = await ingestion.IngestAsync(message, dequeueCount >= LastDelivery, cancellationToken);
        return new TriggerOutcome([log], null);
    }
}
