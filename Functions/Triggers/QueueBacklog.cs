using System.Diagnostics.Metrics;
using Serverless.Functions.Platform.Telemetry;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Triggers;

/// <summary>
/// The <c>queue.backlog</c> gauge: the approximate number of messages (visible or leased) in every queue a queue
/// function consumes, and in its poison queue. An exporter's collection never waits on storage: it gets the counts read
/// last, and when they are older than <see cref="MaxAge"/> a read of them starts in the background (one at a time, each
/// count bounded by <see cref="ReadTimeout"/>). Nothing is read until something collects; a queue whose count could not
/// be read keeps its last value.
/// </summary>
internal sealed class QueueBacklog(IWorkQueue queue, TriggerCatalog catalog, IMeterFactory meters, TimeProvider time, ILogger<QueueBacklog> logger)
    : IHostedService
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private long _readAtTicks = DateTimeOffset.MinValue.UtcTicks;
    private int _reading;

    /// <summary>The queues measured: each queue function's, then its poison queue.</summary>
    public IReadOnlyList<string> Queues { get; } =
        [.. catalog.All.Select(f => f.QueueName).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).SelectMany(q => new[] { q, QueueNames.Poison(q) })];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        meters.Create(PlatformTelemetry.Name).CreateObservableGauge(
            PlatformTelemetry.Metrics.QueueBacklog, Observe, "{message}", $"Approximate messages in each platform queue, visible or leased (read at most every {MaxAge.TotalSeconds:0} s)");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private List<Measurement<long>> Observe()
    {
        if (time.GetUtcNow().UtcTicks - Interlocked.Read(ref _readAtTicks) >= MaxAge.Ticks
            && !_stopping.IsCancellationRequested && Interlocked.Exchange(ref _reading, 1) == 0)
        {
            _ = Task.Run(ReadAsync);
        }

        lock (_counts)
        {
            return [.. _counts.Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>(PlatformTelemetry.Attributes.QueueName, c.Key)))];
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            foreach (var name in Queues)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                timeout.CancelAfter(ReadTimeout);
                try
                {
                    var count = await queue.GetApproximateCountAsync(name, timeout.Token);
                    lock (_counts)
                    {
                        _counts[name] = count;
                    }
                }
                catch (Exception exception) when (!_stopping.IsCancellationRequested)
                {
                    TriggersLog.BacklogUnread(logger, exception, name);
                }
            }

            Interlocked.Exchange(ref _readAtTicks, time.GetUtcNow().UtcTicks);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The app is stopping: nobody collects any more.
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }
}
