namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>Events of the Azure Storage adapters (EventIds 600-649).</summary>
internal static partial class AzureStorageLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Warning, Message = "{Service} storage {Method} failed ({Failure}); attempt {Attempt} is retried in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, StorageService service, string method, string failure, int attempt, long delayMs);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Created {Service} storage resource {Name}")]
    public static partial void Created(ILogger logger, StorageService service, string name);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "Could not delete spilled property blob {Blob}; it is left behind")]
    public static partial void SpillCleanupFailed(ILogger logger, Exception exception, string blob);
}
