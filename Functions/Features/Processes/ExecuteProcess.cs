using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Processes;

internal static class ExecuteProcess
{
    /// <summary>
    /// Starts the process's workflow as the caller (also when the process is inactive: is_active governs its schedule
    /// and events) and waits for the run as POST /workflows/{id}/run does by default; a run still going then is
    /// answered <c>running</c> and goes on. A run that could not start is a <c>failed</c> execution with the reason.
    /// </summary>
    public static async Task<IResult> HandleAsync(
        string id, Caller caller, WorkspaceContext workspace, ProcessStore processes, ProcessExecutor executor, WorkflowRuns runs,
        ExecutionNotifier notifier, IOptions<WorkflowsOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await processes.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } process)
        {
            return Api.NotFound("The process was not found.");
        }

        var execution = await executor.StartAsync(process, new ProcessStart(ProcessStart.Manual, RunPrincipals.Of(caller)), cancellationToken);
        if (execution is { Status: ProcessExecutionStatus.Running, RunId: { } runId }
            && await notifier.WaitForEndAsync(runs, runId, TimeSpan.FromMilliseconds(options.Value.RunWaitDefaultMs), time, cancellationToken) is { } latest)
        {
            execution = ProcessExecutor.Refresh(execution, latest);
            await processes.SaveExecutionAsync(execution, cancellationToken);
        }

        return Api.Ok(ProcessExecutionDto.From(execution));
    }
}
