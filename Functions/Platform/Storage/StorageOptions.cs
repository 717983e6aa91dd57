namespace Serverless.Functions.Platform.Storage;

internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Sqlite (embedded default) or AzureStorage (a later issue).</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Where the embedded adapters keep their files (SQLite database, blobs, generated keys).</summary>
    public string DataDirectory { get; set; } = ".data";
}
