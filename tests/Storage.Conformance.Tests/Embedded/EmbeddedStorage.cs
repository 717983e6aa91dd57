using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Storage;

namespace Serverless.Storage.Conformance.Tests.Embedded;

/// <summary>A data directory of its own for one test, removed with everything in it on dispose.</summary>
internal sealed class EmbeddedStorage : IDisposable
{
    private readonly Lazy<SqliteDatabase> _database;

    public EmbeddedStorage()
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "storage-conformance-" + Guid.NewGuid().ToString("N"));
        Options = Microsoft.Extensions.Options.Options.Create(new StorageOptions { DataDirectory = DataDirectory });
        _database = new Lazy<SqliteDatabase>(() => new SqliteDatabase(Options));
    }

    public string DataDirectory { get; }

    public IOptions<StorageOptions> Options { get; }

    public SqliteDatabase Database => _database.Value;

    public void Dispose()
    {
        if (_database.IsValueCreated)
        {
            _database.Value.Dispose();
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
