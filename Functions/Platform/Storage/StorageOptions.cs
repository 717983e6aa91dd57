using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Platform.Storage;

internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Sqlite (embedded default) or AzureStorage (Table, Queue and Blob storage; Azurite locally).</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Where the embedded adapters keep their files (SQLite database, blobs, generated keys).</summary>
    public string DataDirectory { get; set; } = ".data";

    /// <summary>
    /// AzureStorage: a connection string with an account key, or
    /// <c>UseDevelopmentStorage=true</c> for Azurite. Leave empty to use <see cref="AccountName"/> with Entra ID.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>AzureStorage without a connection string: the account, reached with Entra ID tokens (managed identity in Azure).</summary>
    public string? AccountName { get; set; }

    /// <summary>Blob endpoint; default <c>https://{AccountName}.blob.core.windows.net</c>.</summary>
    public string? BlobServiceUri { get; set; }

    /// <summary>Queue endpoint; default <c>https://{AccountName}.queue.core.windows.net</c>.</summary>
    public string? QueueServiceUri { get; set; }

    /// <summary>Table endpoint; default <c>https://{AccountName}.table.core.windows.net</c>.</summary>
    public string? TableServiceUri { get; set; }

    /// <summary>AzureStorage: retries of a request that timed out or got 408, 429, 500, 502, 503 or 504.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 4;

    /// <summary>AzureStorage: how long one attempt of a request may take before it is abandoned (and retried).</summary>
    [Range(1, 600)]
    public int RequestTimeoutSeconds { get; set; } = 30;
}
