namespace Serverless.Functions.Features.Datasets;

/// <summary>Events of the datasets feature (EventIds 740-759). Never document content.</summary>
internal static partial class DatasetsLog
{
    [LoggerMessage(EventId = 740, Level = LogLevel.Information, Message = "Dataset {DatasetId} created in workspace {WorkspaceId}")]
    public static partial void Created(ILogger logger, string datasetId, string workspaceId);

    [LoggerMessage(EventId = 741, Level = LogLevel.Information, Message = "Dataset {DatasetId} in workspace {WorkspaceId} deleted")]
    public static partial void Deleted(ILogger logger, string datasetId, string workspaceId);

    [LoggerMessage(EventId = 742, Level = LogLevel.Information, Message = "Upload batch {BatchId} of {Count} documents into dataset {DatasetId} of workspace {WorkspaceId}")]
    public static partial void Uploaded(ILogger logger, string batchId, int count, string datasetId, string workspaceId);

    [LoggerMessage(EventId = 743, Level = LogLevel.Information, Message = "Dataset {DatasetId} of workspace {WorkspaceId} finished batch {BatchId} ({Count} documents)")]
    public static partial void BatchCompleted(ILogger logger, string workspaceId, string datasetId, string batchId, int count);

    [LoggerMessage(EventId = 744, Level = LogLevel.Error, Message = "Ingestion of document {DocumentId} in dataset {DatasetId} of workspace {WorkspaceId} failed on its last delivery")]
    public static partial void IngestionGaveUp(ILogger logger, Exception exception, string workspaceId, string datasetId, string documentId);

    [LoggerMessage(EventId = 745, Level = LogLevel.Warning, Message = "Document {DocumentId} v{Version} in dataset {DatasetId} of workspace {WorkspaceId} was still waiting for ingestion; its message was queued again")]
    public static partial void IngestionRequeued(ILogger logger, string workspaceId, string datasetId, string documentId, int version);

    [LoggerMessage(EventId = 746, Level = LogLevel.Warning, Message = "Ignored a dataset-ingest message that is not an ingestion request")]
    public static partial void IgnoredIngestMessage(ILogger logger);

    [LoggerMessage(EventId = 747, Level = LogLevel.Warning, Message = "Ingestion watchdog re-queued {Count} waiting documents")]
    public static partial void Requeued(ILogger logger, int count);

    [LoggerMessage(EventId = 748, Level = LogLevel.Debug, Message = "IngestDocument: {Outcome}")]
    public static partial void Ingested(ILogger logger, string outcome);
}
