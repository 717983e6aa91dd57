using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Storage.Conformance.Tests.Embedded;

public sealed class SqliteIndexedTableTests : IndexedTableConformance
{
    private readonly EmbeddedStorage _storage = new();

    protected override Task<IEntityStore> CreateStoreAsync() =>
        Task.FromResult<IEntityStore>(new SqliteEntityStore(_storage.Database));

    protected override Task DisposeStoreAsync()
    {
        _storage.Dispose();
        return Task.CompletedTask;
    }
}
