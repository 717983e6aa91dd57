using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Analytics;
using Serverless.Functions.Platform.Telemetry;
using Serverless.Functions.Tests.Support;
using Serverless.Functions.Triggers;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>The queue.backlog gauge, read in process with a MeterListener (the trigger host is off, so nothing consumes the queues).</summary>
public sealed class QueueBacklogTests : IAsyncLifetime
{
    private readonly PlatformFactory _factory = new();
    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly MeterListener _listener = new();

    public Task InitializeAsync()
    {
        _ = _factory.Server;
        // Every app of this test process has the gauge: only this app's meter counts here.
        var meters = _factory.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == PlatformTelemetry.Metrics.QueueBacklog && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == PlatformTelemetry.Attributes.QueueName)
                {
                    _seen[(string)tag.Value!] = value;
                }
            }
        });
        _listener.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task Gauge_CountsEveryQueueFunctionsQueueAndItsPoisonQueue_ReadingThemAtMostEveryMaxAge()
    {
        var queue = _factory.Services.GetRequiredService<IWorkQueue>();
        var exports = ExportMessage.QueueName;
        for (var i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(exports, "{}", null, CancellationToken.None);
        }

        await queue.EnqueueAsync(QueueNames.Poison(exports), "{}", null, CancellationToken.None);

        await CollectUntilAsync(() => _seen.GetValueOrDefault(exports) == 3);

        Assert.Equal(1, _seen[QueueNames.Poison(exports)]);
        var measured = _factory.Services.GetRequiredService<QueueBacklog>().Queues;
        Assert.Equal(measured.Order(StringComparer.Ordinal), _seen.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("platform-events", measured);
        Assert.Contains("webhook-deliveries-poison", measured);
        Assert.All(measured.Where(q => !q.StartsWith(exports, StringComparison.Ordinal)), q => Assert.Equal(0, _seen[q]));

        // Collections within MaxAge answer from the counts read last, without reading them again.
        await queue.EnqueueAsync(exports, "{}", null, CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            _listener.RecordObservableInstruments();
            await Task.Delay(20);
        }

        Assert.Equal(3, _seen[exports]);
        _factory.Clock.Advance(QueueBacklog.MaxAge);
        await CollectUntilAsync(() => _seen.GetValueOrDefault(exports) == 4);
    }

    /// <summary>Collects, as an exporter would, until <paramref name="done"/> (the first collections start the background read).</summary>
    private async Task CollectUntilAsync(Func<bool> done)
    {
        for (var i = 1; i <= 200 && !done(); i++)
        {
            _listener.RecordObservableInstruments();
            await Task.Delay(25);
            if (i % 40 == 0)
            {
                // Another app's exporter in this test process may have had the counts read before the messages were in.
                _factory.Clock.Advance(QueueBacklog.MaxAge);
            }
        }

        Assert.True(done(), $"The gauge reported {string.Join(", ", _seen.Select(s => $"{s.Key}={s.Value}"))}");
    }
}
