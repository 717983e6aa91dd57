using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Tests.Hosting;

/// <summary>
/// What the Functions host's Durable extension binds to <c>[DurableClient]</c>, for the worker-mode test host: a
/// <see cref="DurableTaskClient"/> over the standalone Durable Task host's runs port, with the calls worker mode's runs
/// port makes (schedule a run, raise an event, look an instance up); anything else is not supported.
/// </summary>
internal sealed class HostedDurableClient(IRunOrchestrations host) : DurableTaskClient("worker-mode-test")
{
    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        if (orchestratorName.Name != RunTasks.Orchestrator || input is not RunInput run)
        {
            throw new NotSupportedException($"Only {RunTasks.Orchestrator} with a {nameof(RunInput)} is hosted here.");
        }

        var instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        await host.StartAsync(instanceId, run, cancellation);
        return instanceId;
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        host.RaiseEventAsync(instanceId, eventName, eventPayload, cancellation);

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        // The port answers only whether the instance exists; one that does is reported running.
        await host.ExistsAsync(instanceId, cancellation)
            ? new OrchestrationMetadata(RunTasks.Orchestrator, instanceId) { RuntimeStatus = OrchestrationRuntimeStatus.Running }
            : null;

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) => throw new NotSupportedException();

    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) => throw new NotSupportedException();

    public override Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) => throw new NotSupportedException();

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) => throw new NotSupportedException();

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) => throw new NotSupportedException();

    public override Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default) => throw new NotSupportedException();

    public override Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
