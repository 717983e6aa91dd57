using System.Collections.Concurrent;
using System.Diagnostics;
using Serverless.Orchestrations.Ports;
using Serverless.Storage.Conformance.Tests.Support;

namespace Serverless.Storage.Conformance.Tests;

/// <summary>What every <see cref="IWorkQueue"/> adapter must do; a subclass supplies the adapter.</summary>
/// <remarks>Timing tests use real time with one-second windows, the shortest lease Azure grants.</remarks>
public abstract class WorkQueueConformance : StoreConformance<IWorkQueue>
{
    private static readonly TimeSpan ShortWindow = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongLease = TimeSpan.FromSeconds(30);

    private readonly string _queue = UniqueName.Queue();

    [Fact]
    public async Task Dequeue_EnqueuedMessage_ReturnsItUnderLease()
    {
        var before = DateTimeOffset.UtcNow;
        var id = await Store.EnqueueAsync(_queue, "hello", null, Cancellation);

        var message = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));

        Assert.Equal((id, "hello", 1), (message.Id, message.Body, message.DequeueCount));
        Assert.False(string.IsNullOrEmpty(message.PopReceipt));
        Assert.InRange(message.InsertedAt, before.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.InRange(message.NextVisibleAt, before.AddSeconds(20), DateTimeOffset.UtcNow.AddSeconds(40));
    }

    [Fact]
    public async Task Dequeue_EmptyQueue_ReturnsNothing()
    {
        Assert.Empty(await Store.DequeueAsync(_queue, 32, LongLease, Cancellation));
    }

    [Fact]
    public async Task Dequeue_OneAtATime_ReturnsOldestFirst()
    {
        foreach (var body in new[] { "first", "second", "third" })
        {
            await Store.EnqueueAsync(_queue, body, null, Cancellation);
        }

        var bodies = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            bodies.Add(Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation)).Body);
        }

        Assert.Equal(["first", "second", "third"], bodies);
    }

    [Fact]
    public async Task Dequeue_MaxMessages_LimitsTheBatch()
    {
        for (var i = 0; i < 5; i++)
        {
            await Store.EnqueueAsync(_queue, $"m{i}", null, Cancellation);
        }

        var first = await Store.DequeueAsync(_queue, 3, LongLease, Cancellation);
        var rest = await Store.DequeueAsync(_queue, 32, LongLease, Cancellation);

        Assert.Equal(3, first.Count);
        Assert.Equal(2, rest.Count);
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], first.Concat(rest).Select(m => m.Body).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    public async Task Dequeue_MaxMessagesOutOfRange_Throws(int maxMessages)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.DequeueAsync(_queue, maxMessages, LongLease, Cancellation));
    }

    [Fact]
    public async Task Enqueue_WithDelay_HidesMessageUntilDue()
    {
        var clock = Stopwatch.StartNew();
        await Store.EnqueueAsync(_queue, "later", ShortWindow, Cancellation);

        var early = await Store.DequeueAsync(_queue, 1, LongLease, Cancellation);
        var due = await DequeueWhenVisibleAsync();

        Assert.Empty(early);
        Assert.Equal("later", due.Body);
        Assert.True(clock.Elapsed >= ShortWindow - TimeSpan.FromMilliseconds(100), $"Visible after {clock.Elapsed}.");
        Assert.Equal(1, await Store.GetApproximateCountAsync(_queue, Cancellation));
    }

    [Fact]
    public async Task Dequeue_LeaseExpires_MessageReturnsWithHigherDequeueCountAndOldReceiptStale()
    {
        await Store.EnqueueAsync(_queue, "retry me", null, Cancellation);
        var first = Assert.Single(await Store.DequeueAsync(_queue, 1, ShortWindow, Cancellation));

        var whileLeased = await Store.DequeueAsync(_queue, 1, ShortWindow, Cancellation);
        var second = await DequeueWhenVisibleAsync();

        Assert.Empty(whileLeased);
        Assert.Equal((first.Id, "retry me", 2), (second.Id, second.Body, second.DequeueCount));
        Assert.NotEqual(first.PopReceipt, second.PopReceipt);
        Assert.False(await Store.DeleteAsync(_queue, first.Id, first.PopReceipt, Cancellation));
        Assert.True(await Store.DeleteAsync(_queue, second.Id, second.PopReceipt, Cancellation));
    }

    [Fact]
    public async Task Delete_CurrentReceipt_RemovesMessage()
    {
        await Store.EnqueueAsync(_queue, "done", null, Cancellation);
        var message = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));

        Assert.True(await Store.DeleteAsync(_queue, message.Id, message.PopReceipt, Cancellation));

        Assert.Equal(0, await Store.GetApproximateCountAsync(_queue, Cancellation));
        Assert.False(await Store.DeleteAsync(_queue, message.Id, message.PopReceipt, Cancellation));
    }

    [Fact]
    public async Task Delete_WrongReceipt_ReturnsFalseAndKeepsMessage()
    {
        await Store.EnqueueAsync(_queue, "keep", null, Cancellation);
        var message = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));
        var other = await Store.EnqueueAsync(_queue, "other", null, Cancellation);
        var otherLease = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));

        Assert.False(await Store.DeleteAsync(_queue, message.Id, otherLease.PopReceipt, Cancellation));
        Assert.False(await Store.DeleteAsync(_queue, other, message.PopReceipt, Cancellation));

        Assert.Equal(2, await Store.GetApproximateCountAsync(_queue, Cancellation));
    }

    [Fact]
    public async Task UpdateVisibility_CurrentReceipt_ReturnsNewReceiptAndOldOneStopsWorking()
    {
        await Store.EnqueueAsync(_queue, "extend", null, Cancellation);
        var message = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));

        var receipt = await Store.UpdateVisibilityAsync(_queue, message.Id, message.PopReceipt, LongLease, Cancellation);

        Assert.False(string.IsNullOrEmpty(receipt));
        Assert.NotEqual(message.PopReceipt, receipt);
        Assert.Null(await Store.UpdateVisibilityAsync(_queue, message.Id, message.PopReceipt, LongLease, Cancellation));
        Assert.False(await Store.DeleteAsync(_queue, message.Id, message.PopReceipt, Cancellation));
        Assert.Empty(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));
        Assert.True(await Store.DeleteAsync(_queue, message.Id, receipt!, Cancellation));
    }

    [Fact]
    public async Task UpdateVisibility_ZeroTimeout_ReleasesMessageAtOnce()
    {
        await Store.EnqueueAsync(_queue, "release", null, Cancellation);
        var message = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));

        await Store.UpdateVisibilityAsync(_queue, message.Id, message.PopReceipt, TimeSpan.Zero, Cancellation);
        var again = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));

        Assert.Equal((message.Id, 2), (again.Id, again.DequeueCount));
    }

    [Fact]
    public async Task UpdateVisibility_DeletedMessage_ReturnsNull()
    {
        await Store.EnqueueAsync(_queue, "gone", null, Cancellation);
        var message = Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));
        await Store.DeleteAsync(_queue, message.Id, message.PopReceipt, Cancellation);

        Assert.Null(await Store.UpdateVisibilityAsync(_queue, message.Id, message.PopReceipt, LongLease, Cancellation));
    }

    [Fact]
    public async Task GetApproximateCount_CountsVisibleDelayedAndLeasedMessages()
    {
        await Store.EnqueueAsync(_queue, "visible", null, Cancellation);
        await Store.EnqueueAsync(_queue, "delayed", TimeSpan.FromMinutes(5), Cancellation);
        await Store.EnqueueAsync(_queue, "leased", null, Cancellation);
        await Store.DequeueAsync(_queue, 1, LongLease, Cancellation);

        Assert.Equal(3, await Store.GetApproximateCountAsync(_queue, Cancellation));
        Assert.Equal(0, await Store.GetApproximateCountAsync(UniqueName.Queue(), Cancellation));
    }

    [Fact]
    public async Task Queues_SameStore_AreIndependent()
    {
        var other = UniqueName.Queue();
        await Store.EnqueueAsync(other, "elsewhere", null, Cancellation);

        Assert.Empty(await Store.DequeueAsync(_queue, 32, LongLease, Cancellation));
        Assert.Equal("elsewhere", Assert.Single(await Store.DequeueAsync(other, 32, LongLease, Cancellation)).Body);
    }

    [Fact]
    public async Task Dequeue_ConcurrentConsumers_LeaseEveryMessageExactlyOnce()
    {
        const int count = 50;
        var sent = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            sent.Add(await Store.EnqueueAsync(_queue, $"m{i}", null, Cancellation));
        }

        var received = new ConcurrentBag<string>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            while (true)
            {
                var batch = await Store.DequeueAsync(_queue, 5, LongLease, Cancellation);
                if (batch.Count == 0)
                {
                    return;
                }

                foreach (var message in batch)
                {
                    received.Add(message.Id);
                    Assert.Equal(1, message.DequeueCount);
                    Assert.True(await Store.DeleteAsync(_queue, message.Id, message.PopReceipt, Cancellation));
                }
            }
        })).ToList();
        start.SetResult();
        await Task.WhenAll(consumers);

        Assert.Equal(count, received.Count);
        Assert.True(sent.SetEquals(received), "Every message is received, none twice.");
        Assert.Equal(0, await Store.GetApproximateCountAsync(_queue, Cancellation));
    }

    [Fact]
    public async Task Body_UnicodeAndMarkup_RoundTripsExactly()
    {
        const string body = """{"text":"Zoë – 日本語 😀 <b>&amp;</b>","n":1}""";
        await Store.EnqueueAsync(_queue, body, null, Cancellation);

        Assert.Equal(body, Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation)).Body);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Orders")]
    [InlineData("my--queue")]
    [InlineData("-queue")]
    [InlineData("queue-")]
    [InlineData("my_queue")]
    [InlineData("q123456789012345678901234567890123456789012345678901234567890123")]
    public async Task AnyOperation_InvalidQueueName_Throws(string queue)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.EnqueueAsync(queue, "x", null, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DequeueAsync(queue, 1, LongLease, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.GetApproximateCountAsync(queue, Cancellation));
    }

    [Fact]
    public async Task Enqueue_PoisonQueueName_IsValid()
    {
        var poison = QueueNames.Poison(_queue);

        await Store.EnqueueAsync(poison, "bad", null, Cancellation);

        Assert.Equal(1, await Store.GetApproximateCountAsync(poison, Cancellation));
    }

    [Fact]
    public async Task Enqueue_MessageAtSizeLimit_IsAccepted()
    {
        var body = new string('x', QueueNames.MaxMessageBytes);

        await Store.EnqueueAsync(_queue, body, null, Cancellation);

        Assert.Equal(body, Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation)).Body);
    }

    [Fact]
    public async Task Enqueue_MessageOverSizeLimit_Throws()
    {
        // Two UTF-8 bytes per 'é': under the limit in characters, over it in bytes.
        var multiByte = new string('é', (QueueNames.MaxMessageBytes / 2) + 1);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.EnqueueAsync(_queue, new string('x', QueueNames.MaxMessageBytes + 1), null, Cancellation));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.EnqueueAsync(_queue, multiByte, null, Cancellation));
        Assert.Equal(0, await Store.GetApproximateCountAsync(_queue, Cancellation));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData((7 * 24 * 3600) + 1)]
    public async Task Enqueue_DelayOutOfRange_Throws(int seconds)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.EnqueueAsync(_queue, "x", TimeSpan.FromSeconds(seconds), Cancellation));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData((7 * 24 * 3600) + 1)]
    public async Task Dequeue_VisibilityTimeoutOutOfRange_Throws(int seconds)
    {
        await Store.EnqueueAsync(_queue, "x", null, Cancellation);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.DequeueAsync(_queue, 1, TimeSpan.FromSeconds(seconds), Cancellation));
        Assert.Single(await Store.DequeueAsync(_queue, 1, LongLease, Cancellation));
    }

    /// <summary>Polls until one message is visible, failing after two seconds.</summary>
    private async Task<QueueMessage> DequeueWhenVisibleAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(2))
        {
            var batch = await Store.DequeueAsync(_queue, 1, LongLease, Cancellation);
            if (batch.Count > 0)
            {
                return Assert.Single(batch);
            }

            await Task.Delay(50, Cancellation);
        }

        throw new Xunit.Sdk.XunitException("No message became visible within 2 s.");
    }
}
