using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Models;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// Tables, queues and containers are created on first use, so a fresh account (Azurite, or Azure before the
/// infrastructure declared them) needs no setup step: a write that finds its resource missing creates it and runs
/// once more. Reads of a missing resource simply find nothing (the adapters answer that themselves).
/// </summary>
internal static class StorageResources
{
    /// <summary>A queue message's time to live that never ends (the service's default is 7 days).</summary>
    public static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    public static async Task<T> CreatingTableAsync<T>(TableClient table, Func<Task<T>> write, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return await write();
        }
        catch (RequestFailedException e) when (IsMissingTable(e))
        {
            await CreateTableAsync(table, logger, cancellationToken);
            return await write();
        }
    }

    public static bool IsMissingTable(RequestFailedException e) => e.Status == 404 && e.ErrorCode == TableErrorCode.TableNotFound.ToString();

    public static async Task CreateTableAsync(TableClient table, ILogger logger, CancellationToken cancellationToken)
    {
        var response = await table.CreateIfNotExistsAsync(cancellationToken);
        if (response.GetRawResponse().Status is 201 or 204)
        {
            AzureStorageLog.Created(logger, StorageService.Table, table.Name);
        }
    }

    public static async Task<T> CreatingQueueAsync<T>(QueueClient queue, Func<Task<T>> write, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return await write();
        }
        catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode == QueueErrorCode.QueueNotFound.ToString())
        {
            // 201 is a new queue; 204 one that existed already (someone else created it meanwhile).
            if ((await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken))?.Status == 201)
            {
                AzureStorageLog.Created(logger, StorageService.Queue, queue.Name);
            }

            return await write();
        }
    }

    public static async Task<T> CreatingContainerAsync<T>(BlobContainerClient container, Func<Task<T>> write, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return await write();
        }
        catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode == BlobErrorCode.ContainerNotFound.ToString())
        {
            await CreateContainerAsync(container, logger, cancellationToken);
            return await write();
        }
    }

    public static async Task CreateContainerAsync(BlobContainerClient container, ILogger logger, CancellationToken cancellationToken)
    {
        // Null when the container existed already.
        if (await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken) is not null)
        {
            AzureStorageLog.Created(logger, StorageService.Blob, container.Name);
        }
    }
}
