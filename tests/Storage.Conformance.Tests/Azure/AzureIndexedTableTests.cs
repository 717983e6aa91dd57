using Serverless.Orchestrations.Ports;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class AzureIndexedTableTests : IndexedTableConformance
{
    protected override Task<IEntityStore> CreateStoreAsync() => AzuriteStorage.GetAsync<IEntityStore>();
}
