namespace Serverless.Functions.Platform.Search;

internal static partial class SearchLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Search index: loaded {Count} vectors ({Megabytes} MB) of {WorkspaceId}/{DatasetId} in {ElapsedMs} ms")]
    public static partial void VectorsLoaded(ILogger logger, int count, long megabytes, string workspaceId, string datasetId, long elapsedMs);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Search index: created Azure AI Search index {IndexName}")]
    public static partial void AzureIndexCreated(ILogger logger, string indexName);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Warning, Message = "Search index: Search:Provider is Local while storage is AzureStorage, so the knowledge-base index is a file under {DataDirectory} on this instance only: it is not shared with other instances and is lost when the instance is recycled. Set Search:Provider=AzureAISearch (azd: DEPLOY_AI_SEARCH=true) for a durable index.")]
    public static partial void LocalIndexBesideAzureStorage(ILogger logger, string dataDirectory);
}
