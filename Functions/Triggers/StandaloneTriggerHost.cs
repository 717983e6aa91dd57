using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using NCrontab;
using Serverless.Functions.Platform;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Triggers;

internal sealed class TriggerOptions
{
    public const string Section = "Triggers";

    /// <summary>Run timers and drain queues in process when no Functions host drives the app.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where host.json and the function folders are; default: next to the executable, as the Functions host has them.</summary>
    public string? ScriptRoot { get; set; }
}

/// <summary>
/// Standalone, this plays the Functions host's part for non-HTTP triggers: it fires each timer on its
/// schedule and drains each queue (lease, invoke, delete; release on failure; poison after maxDequeueCount),
/// invoking the same handlers with the same envelope. Under a real host it stays off.
/// </summary>
internal sealed class StandaloneTriggerHost(
    FunctionManifest manifest,
    TriggerDispatcher dispatcher,
    IWorkQueue queue,
    QueueSignal signal,
    IConfiguration configuration,
    IOptions<TriggerOptions> options,
    TimeProvider time,
    ILogger<StandaloneTriggerHost> logger) : BackgroundService
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(50);

    public static bool ShouldRun(TriggerOptions options) => options.Enabled && !HostingMode.IsFunctionsHost;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!ShouldRun(options.Value))
        {
            TriggersLog.Disabled(logger);
            return Task.CompletedTask;
        }

        var loops = manifest.Functions.Select(f => f.TriggerType switch
        {
            "timerTrigger" => RunTimerAsync(f, stoppingToken),
            "queueTrigger" => RunQueueAsync(f, stoppingToken),
            _ => Task.CompletedTask,
        }).ToList();
        TriggersLog.Started(logger, loops.Count);
        return Task.WhenAll(loops);
    }

    private async Task RunTimerAsync(FunctionDefinition function, CancellationToken cancellationToken)
    {
        var expression = Resolve(function.Schedule ?? "");
        var schedule = CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = true });
        if (schedule is null)
        {
            TriggersLog.BadSchedule(logger, function.Name, expression);
            return;
        }

        DateTimeOffset? last = null;
        if (function.RunOnStartup)
        {
            last = await FireTimerAsync(function, schedule, last, cancellationToken);
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

            last = await FireTimerAsync(function, schedule, last, cancellationToken);
        }
    }

    private async Task<DateTimeOffset> FireTimerAsync(FunctionDefinition function, CrontabSchedule schedule, DateTimeOffset? last, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var timer = new
        {
            Schedule = new { AdjustForDST = true },
            ScheduleStatus = new { Last = last ?? DateTimeOffset.MinValue, Next = schedule.GetNextOccurrence(now.UtcDateTime), LastUpdated = now },
            IsPastDue = false,
        };
        var request = new TriggerRequest(
            new Dictionary<string, JsonElement> { [function.BindingName] = JsonSerializer.SerializeToElement(timer) },
            new Dictionary<string, JsonElement> { ["sys"] = Sys(function.Name, now) });
        await InvokeAsync(function.Name, request, cancellationToken);
        return now;
    }

    /// <summary>
    /// A continuous pump: up to one and a half batches in flight (as the Functions host runs a queue), topped up as
    /// each message finishes, so one slow step never holds back the others.
    /// </summary>
    private async Task RunQueueAsync(FunctionDefinition function, CancellationToken cancellationToken)
    {
        var queueName = Resolve(function.QueueName ?? "");
        var settings = manifest.Queues;
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
        FunctionDefinition function, string queueName, QueueMessage message, QueueSettings settings, SemaphoreSlim slots, Action done, CancellationToken cancellationToken)
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

    private async Task ProcessAsync(FunctionDefinition function, string queueName, QueueMessage message, QueueSettings settings, CancellationToken cancellationToken)
    {
        // A message that already used up its attempts (its processor died each time) goes straight to poison.
        if (message.DequeueCount > settings.MaxDequeueCount)
        {
            await PoisonAsync(queueName, message, cancellationToken);
            return;
        }

        var request = new TriggerRequest(
            new Dictionary<string, JsonElement> { [function.BindingName] = JsonSerializer.SerializeToElement(message.Body) },
            new Dictionary<string, JsonElement>
            {
                ["Id"] = JsonSerializer.SerializeToElement(message.Id),
                ["PopReceipt"] = JsonSerializer.SerializeToElement(message.PopReceipt),
                ["DequeueCount"] = JsonSerializer.SerializeToElement(message.DequeueCount),
                ["InsertionTime"] = JsonSerializer.SerializeToElement(message.InsertedAt),
                ["NextVisibleTime"] = JsonSerializer.SerializeToElement(message.NextVisibleAt),
                ["sys"] = Sys(function.Name, time.GetUtcNow()),
            });

        if (await InvokeAsync(function.Name, request, cancellationToken))
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

    private async Task<bool> InvokeAsync(string name, TriggerRequest request, CancellationToken cancellationToken)
    {
        var (succeeded, _) = await dispatcher.InvokeAsync(name, request, cancellationToken);
        return succeeded;
    }

    /// <summary>Like the host, a value written <c>%Name%</c> is read from the app setting Name.</summary>
    private string Resolve(string value) =>
        value is ['%', .. var setting, '%'] ? configuration[setting] ?? "" : value;

    private static JsonElement Sys(string name, DateTimeOffset now) =>
        JsonSerializer.SerializeToElement(new { MethodName = name, UtcNow = now.ToString("O", CultureInfo.InvariantCulture), RandGuid = Guid.NewGuid() });
}
