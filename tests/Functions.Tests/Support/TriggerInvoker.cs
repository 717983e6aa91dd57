using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Tests.Support;

/// <summary>
/// Runs a timer or queue function of <see cref="TriggerFunctions"/> once, as the Functions host and the standalone trigger
/// host both do (a new scope and instance, the message text and dequeue count bound by parameter).
/// </summary>
internal static class TriggerInvoker
{
    public static Task InvokeAsync(IServiceProvider services, string function, string? message = null, long dequeueCount = 1, CancellationToken cancellationToken = default) =>
        TriggerCatalog.InvokeAsync(services, services.GetRequiredService<TriggerCatalog>().Get(function), message, dequeueCount, TimeProvider.System, cancellationToken);
}
