using Azure.Storage.Queues;
using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;
using Serverless.Testing;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class AzureQueueWorkQueueTests : WorkQueueConformance
{
    [Fact]
    public async Task Enqueue_Message_TravelsAsBase64OfUtf8AsTheFunctionsHostDecodesIt()
    {
        var queue = UniqueName.Queue();
        const string body = """{"to":"zoë@example.com","subject":"日本語"}""";
        await Store.EnqueueAsync(queue, body, null, Cancellation);

        var raw = Assert.Single((await (await RawQueueAsync(queue)).ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30), Cancellation)).Value);

        Assert.Equal(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(body)), raw.Body.ToString());
    }

    [Fact]
    public async Task Dequeue_MessageThatIsNotBase64_IsMovedToThePoisonQueueAsItIs()
    {
        var queue = UniqueName.Queue();
        var raw = await RawQueueAsync(queue);
        await raw.CreateIfNotExistsAsync(cancellationToken: Cancellation);
        await raw.SendMessageAsync("plain text, not base64!", Cancellation);

        var handedOver = await Store.DequeueAsync(queue, 1, TimeSpan.FromSeconds(30), Cancellation);
        var poisoned = await Store.DequeueAsync(QueueNames.Poison(queue), 1, TimeSpan.FromSeconds(30), Cancellation);

        Assert.Empty(handedOver);
        Assert.Equal(0, await Store.GetApproximateCountAsync(queue, Cancellation));
        Assert.Equal("plain text, not base64!", Assert.Single(poisoned).Body);
    }

    protected override Task<IWorkQueue> CreateStoreAsync() => AzuriteStorage.GetAsync<IWorkQueue>();

    /// <summary>The queue as a client that neither encodes nor decodes sees it: the text on the wire.</summary>
    private static async Task<QueueClient> RawQueueAsync(string queue) =>
        new((await Azurite.SharedAsync()).ConnectionString, queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
}
