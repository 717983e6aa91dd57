namespace Serverless.Functions.Platform.Search;

internal static partial class SearchLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Search index: loaded {Count} vectors ({Megabytes} MB) of {WorkspaceId}/{DatasetId} in {ElapsedMs} ms")]
    public static partial void VectorsLoaded(ILogger logger, int count, long megabytes, string workspaceId, string datasetId, long elapsedMs);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Search index: created Azure AI Search index {IndexName}")]
    public static partial void AzureIndexCreated(ILogger logger, string indexName);
}
