using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.Plugins;

/// <summary>The plugins feature's queue function (run by the Functions host, or standalone by the trigger host).</summary>
public sealed class PluginsFunctions(IServiceProvider services)
{
    /// <summary>Runs one asynchronous plugin execution. A message that is not one fails, so it ends in poison.</summary>
    [Function(nameof(RunPluginExecution))]
    public Task RunPluginExecution([QueueTrigger(PluginExecutionMessage.QueueName, Connection = TriggerFunctions.Connection)] string message, CancellationToken cancellationToken)
    {
        var execution = JsonSerializer.Deserialize<PluginExecutionMessage>(message, JsonSerializerOptions.Web) is { WorkspaceId.Length: > 0, PluginId.Length: > 0, ExecutionId.Length: > 0 } parsed
            ? parsed
            : throw new InvalidOperationException("The message is not a plugin execution.");
        return ExecutePlugin.RunQueuedAsync(execution, Get<PluginCatalog>(), Get<PluginRunner>(), Get<PluginStore>(), Get<TimeProvider>(), cancellationToken);
    }

    private T Get<T>() where T : notnull => services.GetRequiredService<T>();
}
