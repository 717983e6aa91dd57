using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Storage.Conformance.Tests.Embedded;

public sealed class SqliteWorkQueueTests : WorkQueueConformance
{
    private readonly EmbeddedStorage _storage = new();

    protected override Task<IWorkQueue> CreateStoreAsync() =>
        Task.FromResult<IWorkQueue>(new SqliteWorkQueue(_storage.Database));

    protected override Task DisposeStoreAsync()
    {
        _storage.Dispose();
        return Task.CompletedTask;
    }
}
