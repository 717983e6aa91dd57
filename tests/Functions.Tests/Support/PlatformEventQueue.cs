using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Events;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Support;

/// <summary>Plays the Functions host for the platform-events queue: delivers every queued message to DispatchPlatformEvent.</summary>
internal static class PlatformEventQueue
{
    /// <summary>Delivers until the queue is empty; returns the number of messages delivered.</summary>
    public static async Task<int> DrainAsync(IServiceProvider services)
    {
        var queue = services.GetRequiredService<IWorkQueue>();
        var delivered = 0;
        while ((await queue.DequeueAsync(PlatformEventMessage.QueueName, 16, TimeSpan.FromMinutes(1), CancellationToken.None)) is { Count: > 0 } messages)
        {
            foreach (var message in messages)
            {
                await TriggerInvoker.InvokeAsync(services, "DispatchPlatformEvent", message.Body, message.DequeueCount);
                await queue.DeleteAsync(PlatformEventMessage.QueueName, message.Id, message.PopReceipt, CancellationToken.None);
                delivered++;
            }
        }

        return delivered;
    }
}
