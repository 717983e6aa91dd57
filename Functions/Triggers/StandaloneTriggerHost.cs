using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using NCrontab;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Triggers;

internal sealed class TriggerOptions
{
    public const string Section = "Triggers";

    /// <summary>Run timers and drain queues in process (standalone mode only; in worker mode the Functions host does).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where host.json is; default: next to the executable, as the Functions host has it.</summary>
    public string? ScriptRoot { get; set; }
}

/// <summary>host.json's <c>extensions.queues</c>: how the Functions host runs queue functions, and so how the standalone host does.</summary>
internal sealed record QueueSettings(int MaxDequeueCount, TimeSpan VisibilityTimeout, TimeSpan MaxPollingInterval, int BatchSize)
{
    public static QueueSettings Read(string scriptRoot)
    {
        var hostJson = Path.Combine(scriptRoot, "host.json");
        var queues = File.Exists(hostJson)
            ? JsonNode.Parse(File.ReadAllText(hostJson), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })?["extensions"]?["queues"]
            : null;
        return new QueueSettings(
            queues?["maxDequeueCount"]?.GetValue<int>() ?? 5,
            TimeSpan.Parse(queues?["visibilityTimeout"]?.GetValue<string>() ?? "00:00:00", CultureInfo.InvariantCulture),
            TimeSpan.Parse(queues?["maxPollingInterval"]?.GetValue<string>() ?? "00:00:02", CultureInfo.InvariantCulture),
            queues?["batchSize"]?.GetValue<int>() ?? 16);
    }
}

/// <summary>
/// Standalone, this plays the Functions host's part for the timer and queue functions of <see cref="TriggerCatalog"/>:
/// it fires each timer on its schedule and drains each queue (lease, invoke, delete; release on failure; poison after
/// maxDequeueCount), calling the same methods. Worker mode does not register it.
/// </summary>
internal sealed class StandaloneTriggerHost(
    IServiceProvider services,
    TriggerCatalog catalog,
    IWorkQueue queue,
    QueueSignal signal,
    IOptions<TriggerOptions> options,
    TimeProvider time,
    ILogger<StandaloneTriggerHost> logger) : BackgroundService
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(50);
    private readonly QueueSettings _settings = QueueSettings.Read(options.Value.ScriptRoot ?? AppContext.BaseDirectory);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            TriggersLog.Disabled(logger);
            return;
        }

        // The host waits for ExecuteAsync's first await before it starts the server; the loops start after it.
        await Task.Yield();
        var loops = catalog.All.Select(f => f.QueueName is null ? RunTimerAsync(f, stoppingToken) : RunQueueAsync(f, stoppingToken)).ToList();
        TriggersLog.Started(logger, loops.Count);
        await Task.WhenAll(loops);
    }

    private async Task RunTimerAsync(TriggerDefinition function, CancellationToken cancellationToken)
    {
        var expression = function.Schedule ?? "";
        var schedule = CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        if (schedule is null)
        {
            TriggersLog.BadSchedule(logger, function.Name, expression);
            return;
        }

        if (function.RunOnStartup)
        {
            await InvokeAsync(function, null, 0, cancellationToken);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = new DateTimeOffset(schedule.GetNextOccurrence(now.UtcDateTime), TimeSpan.Zero);
            try
            {
                await Task.Delay(next - now, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await InvokeAsync(function, null, 0, cancellationToken);
        }
    }

    /// <summary>
    /// A continuous pump: up to one and a half batches in flight (as the Functions host runs a queue), topped up as
    /// each message finishes, so one slow step never holds back the others.
    /// </summary>
    private async Task RunQueueAsync(TriggerDefinition function, CancellationToken cancellationToken)
    {
        var queueName = function.QueueName!;
        var settings = _settings;
        var batch = Math.Clamp(settings.BatchSize, 1, 32);
        var capacity = batch + batch / 2;
        using var slots = new SemaphoreSlim(capacity, capacity);
        var inFlight = new ConcurrentDictionary<Guid, Task>();
        var idle = MinPollingInterval;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await slots.WaitAsync(cancellationToken);
                var free = 1;
                while (free < batch && slots.Wait(0))
                {
                    free++;
                }

                IReadOnlyList<QueueMessage> messages;
                try
                {
                    messages = await queue.DequeueAsync(queueName, free, Lease, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    TriggersLog.PollFailed(logger, exception, queueName);
                    messages = [];
                }

                if (free > messages.Count)
                {
                    slots.Release(free - messages.Count);
                }

                if (messages.Count == 0)
                {
                    await signal.WaitAsync(queueName, idle, time, cancellationToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, settings.MaxPollingInterval.Ticks));
                    continue;
                }

                idle = MinPollingInterval;
                foreach (var message in messages)
                {
                    var key = Guid.NewGuid();
                    inFlight[key] = RunOneAsync(function, queueName, message, settings, slots, () => inFlight.TryRemove(key, out _), cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: what is in flight stops with the token and its messages come back after their lease.
        }

        await Task.WhenAll(inFlight.Values);
    }

    private async Task RunOneAsync(
        TriggerDefinition function, string queueName, QueueMessage message, QueueSettings settings, SemaphoreSlim slots, Action done, CancellationToken cancellationToken)
    {
        try
        {
            await ProcessAsync(function, queueName, message, settings, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            TriggersLog.PollFailed(logger, exception, queueName);
        }
        finally
        {
            slots.Release();
            done();
        }
    }

    private async Task ProcessAsync(TriggerDefinition function, string queueName, QueueMessage message, QueueSettings settings, CancellationToken cancellationToken)
    {
        // A message that already used up its attempts (its processor died each time) goes straight to poison.
        if (message.DequeueCount > settings.MaxDequeueCount)
        {
            await PoisonAsync(queueName, message, cancellationToken);
            return;
        }

        if (await InvokeAsync(function, message.Body, message.DequeueCount, cancellationToken))
        {
            await queue.DeleteAsync(queueName, message.Id, message.PopReceipt, CancellationToken.None);
        }
        else if (message.DequeueCount >= settings.MaxDequeueCount)
        {
            await PoisonAsync(queueName, message, cancellationToken);
        }
        else
        {
            await queue.UpdateVisibilityAsync(queueName, message.Id, message.PopReceipt, settings.VisibilityTimeout, CancellationToken.None);
        }
    }

    private async Task PoisonAsync(string queueName, QueueMessage message, CancellationToken cancellationToken)
    {
        await queue.EnqueueAsync(QueueNames.Poison(queueName), message.Body, null, cancellationToken);
        await queue.DeleteAsync(queueName, message.Id, message.PopReceipt, CancellationToken.None);
        TriggersLog.Poisoned(logger, message.Id, queueName, message.DequeueCount);
    }

    /// <summary>One invocation; false when the function failed (logged).</summary>
    private async Task<bool> InvokeAsync(TriggerDefinition function, string? message, long dequeueCount, CancellationToken cancellationToken)
    {
        try
        {
            await TriggerCatalog.InvokeAsync(services, function, message, dequeueCount, time, cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            TriggersLog.Failed(logger, exception, function.Name);
            return false;
        }
    }
}
