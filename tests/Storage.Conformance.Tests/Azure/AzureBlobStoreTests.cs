using Serverless.Orchestrations.Ports;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class AzureBlobStoreTests : BlobStoreConformance
{
    protected override Task<IBlobStore> CreateStoreAsync() => AzuriteStorage.GetAsync<IBlobStore>();
}
