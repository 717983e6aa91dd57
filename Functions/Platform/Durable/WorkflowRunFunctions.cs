using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Platform.Durable;

/// <summary>
/// Worker mode's Durable Functions: hand-written <c>[OrchestrationTrigger]</c>/<c>[ActivityTrigger]</c> wrappers over
/// the same orchestrator and activity classes standalone mode runs on the Durable Task Framework (the Durable Task
/// source generator is not available here). Activities that signal other runs get the host's client as well.
/// </summary>
public sealed class WorkflowRunFunctions(IServiceProvider services)
{
    [Function(RunTasks.Orchestrator)]
    public Task<RunOutcome> WorkflowRun([OrchestrationTrigger] TaskOrchestrationContext context) =>
        services.GetRequiredService<WorkflowOrchestrator>().RunAsync(context, context.GetInput<RunInput>()!);

    [Function(RunTasks.AdmitRun)]
    public Task<bool> AdmitRun([ActivityTrigger] string executionId, FunctionContext function) =>
        Activity<AdmitRunActivity>().RunAsync(new FunctionActivityContext(RunTasks.AdmitRun, function), executionId);

    [Function(RunTasks.SaveRun)]
    public Task<long> SaveRun([ActivityTrigger] RunCheckpoint checkpoint, FunctionContext function) =>
        Activity<SaveRunActivity>().RunAsync(new FunctionActivityContext(RunTasks.SaveRun, function), checkpoint);

    [Function(RunTasks.RunNode)]
    public Task<NodeAttemptResult> RunNode([ActivityTrigger] NodeAttempt attempt, FunctionContext function) =>
        Activity<RunNodeActivity>().RunAsync(new FunctionActivityContext(RunTasks.RunNode, function), attempt);

    [Function(RunTasks.CreateChildRuns)]
    public Task<CreatedChildRuns> CreateChildRuns([ActivityTrigger] ChildRunsRequest request, FunctionContext function) =>
        Activity<CreateChildRunsActivity>().RunAsync(new FunctionActivityContext(RunTasks.CreateChildRuns, function), request);

    [Function(RunTasks.EndRun)]
    public async Task<RunOutcome> EndRun([ActivityTrigger] RunCheckpoint checkpoint, [DurableClient] DurableTaskClient client, FunctionContext function)
    {
        using var scope = DurableClientScope.Enter(client);
        return await Activity<EndRunActivity>().RunAsync(new FunctionActivityContext(RunTasks.EndRun, function), checkpoint);
    }

    private T Activity<T>() where T : notnull => services.GetRequiredService<T>();

    private sealed class FunctionActivityContext(string name, FunctionContext function) : TaskActivityContext
    {
        public override TaskName Name => name;

        public override string InstanceId => function.InvocationId;
    }
}

/// <summary>The Durable Functions client of the current invocation (bound by <c>[DurableClient]</c>), for the runs port.</summary>
internal static class DurableClientScope
{
    private static readonly AsyncLocal<DurableTaskClient?> CurrentClient = new();

    public static DurableTaskClient? Current => CurrentClient.Value;

    /// <summary>Makes <paramref name="client"/> current until disposed; null (standalone, where the port needs none) changes nothing.</summary>
    public static IDisposable Enter(DurableTaskClient? client)
    {
        if (client is null)
        {
            return new Exit(CurrentClient.Value);
        }

        var previous = CurrentClient.Value;
        CurrentClient.Value = client;
        return new Exit(previous);
    }

    private sealed class Exit(DurableTaskClient? previous) : IDisposable
    {
        public void Dispose() => CurrentClient.Value = previous;
    }
}

/// <summary>Worker mode's runs port: Durable Functions' client of the invocation at hand.</summary>
internal sealed class FunctionsRunOrchestrations : IRunOrchestrations
{
    public async Task StartAsync(string instanceId, RunInput input, CancellationToken cancellationToken)
    {
        try
        {
            await Client.ScheduleNewOrchestrationInstanceAsync(RunTasks.Orchestrator, input, new StartOrchestrationOptions(instanceId), cancellationToken);
        }
        catch (InvalidOperationException)
        {
            // Scheduled before (a repeated start after a crash): the instance that exists is the run's.
            if (await Client.GetInstanceAsync(instanceId, cancellationToken) is not { IsRunning: true })
            {
                throw;
            }
        }
    }

    public Task RaiseEventAsync(string instanceId, string eventName, object? payload, CancellationToken cancellationToken) =>
        Client.RaiseEventAsync(instanceId, eventName, payload, cancellationToken);

    public async Task<bool> ExistsAsync(string instanceId, CancellationToken cancellationToken) =>
        await Client.GetInstanceAsync(instanceId, cancellationToken) is not null;

    private static DurableTaskClient Client => DurableClientScope.Current
        ?? throw new InvalidOperationException("No Durable Functions client in this invocation: the function must bind [DurableClient].");
}
