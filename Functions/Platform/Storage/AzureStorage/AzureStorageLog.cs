namespace Serverless.Functions.Platform.Storage.AzureStorage;

internal enum StorageService
{
    Blob,
    Queue,
    Table,
}

/// <summary>Events of the Azure Storage adapters (EventIds 600-649).</summary>
internal static partial class AzureStorageLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Warning, Message = "{Service} storage {Method} attempt failed ({Failure}); it is retried while Storage:MaxRetries allows")]
    public static partial void AttemptFailed(ILogger logger, StorageService service, string method, string failure);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Created {Service} storage resource {Name}")]
    public static partial void Created(ILogger logger, StorageService service, string name);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "Could not delete spilled property blob {Blob}; it is left behind")]
    public static partial void SpillCleanupFailed(ILogger logger, Exception exception, string blob);

    [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "Message {MessageId} in queue {Queue} is not base64; it is moved to {PoisonQueue} as it is")]
    public static partial void UndecodableMessage(ILogger logger, string queue, string messageId, string poisonQueue);
}
