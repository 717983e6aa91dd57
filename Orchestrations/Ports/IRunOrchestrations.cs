using Serverless.Orchestrations.Runtime;

namespace Serverless.Orchestrations.Ports;

/// <summary>
/// The Durable Task client of the host the app runs under: Durable Functions in worker mode, the Durable Task Framework
/// standalone. Runs are started, signalled and checked through it; nothing else knows which host runs them.
/// </summary>
public interface IRunOrchestrations
{
    /// <summary>Schedules the orchestration of a run (<see cref="RunTasks.Orchestrator"/>) as <paramref name="instanceId"/>.</summary>
    Task StartAsync(string instanceId, RunInput input, CancellationToken cancellationToken);

    /// <summary>Raises an external event on an instance; an event for an instance that ended or never existed is dropped.</summary>
    Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken);

    /// <summary>Whether the instance exists (scheduled, running or ended).</summary>
    Task<bool> ExistsAsync(string instanceId, CancellationToken cancellationToken);
}
