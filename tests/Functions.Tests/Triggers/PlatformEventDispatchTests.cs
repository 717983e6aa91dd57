using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>Recording a platform event queues it, and the DispatchPlatformEvent queue function hands it to every handler.</summary>
public sealed class PlatformEventDispatchTests : IDisposable
{
    private readonly RecordingHandler _handler = new();
    private readonly PlatformFactory _factory;

    public PlatformEventDispatchTests()
    {
        _factory = PlatformFactory.With(new Dictionary<string, string?>());
        _factory.TestServices = services => services.AddSingleton<IPlatformEventHandler>(_handler);
    }

    [Fact]
    public async Task RecordedEvent_ReachesEveryHandler_AtLeastOncePerRecording()
    {
        var log = _factory.Services.GetRequiredService<PlatformEventLog>();
        var id = "test.event:" + Guid.NewGuid().ToString("N");

        Assert.True(await log.AppendOnceAsync("ws_dispatch", id, "test.happened", new JsonObject { ["n"] = 1 }, CancellationToken.None));
        // A retried recorder records again: one row, and the handlers hear of it again (they dedupe on the id).
        Assert.False(await log.AppendOnceAsync("ws_dispatch", id, "test.happened", new JsonObject { ["n"] = 1 }, CancellationToken.None));
        var delivered = await DrainAsync();

        Assert.Equal(2, delivered);
        Assert.Equal(2, _handler.Seen.Count(e => e.Id == id));
        Assert.All(_handler.Seen.Where(e => e.Id == id), e =>
        {
            Assert.Equal("ws_dispatch", e.WorkspaceId);
            Assert.Equal("test.happened", e.Type);
            Assert.Equal(1, e.Payload["n"]!.GetValue<int>());
        });
    }

    [Fact]
    public async Task MessageAboutNothing_IsIgnored()
    {
        await TriggerInvoker.InvokeAsync(_factory.Services, "DispatchPlatformEvent", "not json");
        await TriggerInvoker.InvokeAsync(_factory.Services, "DispatchPlatformEvent", """{"workspaceId":"ws_none","eventId":"missing"}""");

        Assert.Empty(_handler.Seen);
    }

    /// <summary>Plays the Functions host: delivers every queued dispatch message to the queue function.</summary>
    private async Task<int> DrainAsync()
    {
        var queue = _factory.Services.GetRequiredService<IWorkQueue>();
        var delivered = 0;
        while ((await queue.DequeueAsync(PlatformEventMessage.QueueName, 16, TimeSpan.FromMinutes(1), CancellationToken.None)) is { Count: > 0 } messages)
        {
            foreach (var message in messages)
            {
                await TriggerInvoker.InvokeAsync(_factory.Services, "DispatchPlatformEvent", message.Body, message.DequeueCount);
                await queue.DeleteAsync(PlatformEventMessage.QueueName, message.Id, message.PopReceipt, CancellationToken.None);
                delivered++;
            }
        }

        return delivered;
    }

    public void Dispose() => _factory.Dispose();

    private sealed class RecordingHandler : IPlatformEventHandler
    {
        public ConcurrentBag<PlatformEvent> Seen { get; } = [];

        public Task HandleAsync(PlatformEvent platformEvent, CancellationToken cancellationToken)
        {
            Seen.Add(platformEvent);
            return Task.CompletedTask;
        }
    }
}
