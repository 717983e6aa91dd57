using Serverless.Functions.Platform.Storage.AzureStorage;
using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class AzureQueueWorkQueueTests : WorkQueueConformance
{
    [Fact]
    public async Task Enqueue_Message_TravelsAsBase64OfUtf8AsTheFunctionsHostDecodesIt()
    {
        var queue = UniqueName.Queue();
        const string body = """{"to":"zoë@example.com","subject":"日本語"}""";
        await Store.EnqueueAsync(queue, body, null, Cancellation);

        var raw = Assert.Single(await (await AzuriteStorage.GetAsync<QueueRestClient>()).GetAsync(queue, 1, 30, Cancellation));

        Assert.Equal(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(body)), raw.Text);
    }

    protected override Task<IWorkQueue> CreateStoreAsync() => AzuriteStorage.GetAsync<IWorkQueue>();
}
