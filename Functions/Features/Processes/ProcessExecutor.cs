using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Processes;

internal static class ProcessExecutionStatus
{
    public const string Success = "success";
    public const string Failed = "failed";
    public const string Running = "running";
}

/// <summary>What started a process: by hand, a schedule slot, or a platform event (which the run receives as <c>inputs.event</c>).</summary>
internal sealed record ProcessStart(string Source, RunPrincipal Principal, DateTimeOffset? Slot = null, JsonObject? Event = null, string? EventId = null)
{
    public const string Manual = "manual";
    public const string Schedule = "schedule";
    public const string PlatformEvent = "event";
}

/// <summary>Starts a process's workflow and records the execution; what a run's status means in Behflow's terms.</summary>
internal sealed class ProcessExecutor(ProcessStore processes, WorkflowRunner runner, WorkflowRuns runs, TimeProvider time, ILogger<ProcessExecutor> logger)
{
    /// <summary>Starts the run (or records why it could not start) and marks the process's last execution.</summary>
    public async Task<ProcessExecutionRecord> StartAsync(ProcessRecord process, ProcessStart start, CancellationToken cancellationToken)
    {
        var inputs = process.Action.Inputs.DeepClone().AsObject();
        if (start.Event is { } platformEvent)
        {
            inputs["event"] = platformEvent.DeepClone();
        }

        var metadata = new JsonObject { ["processId"] = process.Id, ["processSource"] = start.Source };
        var now = time.GetUtcNow();
        var (run, error) = await runner.StartAsync(process.WorkspaceId, process.Action.WorkflowId, null, inputs, metadata, start.Principal, cancellationToken);
        var execution = run is null
            ? new ProcessExecutionRecord(Secrets.NewId("pex"), process.Id, null, start.Source, ProcessExecutionStatus.Failed, NotStarted(error), now, now, start.EventId, start.Slot)
            : Refresh(new ProcessExecutionRecord(run.Id, process.Id, run.Id, start.Source, ProcessExecutionStatus.Running, "", now, null, start.EventId, start.Slot), run);
        await processes.SaveExecutionAsync(execution, cancellationToken);
        await processes.UpdateAsync(process.WorkspaceId, process.Id, p => p with { LastExecution = now, LastExecutionId = execution.Id }, cancellationToken);
        if (run is null)
        {
            ProcessesLog.NotStarted(logger, process.Id, start.Source, process.Action.WorkflowId, (error as IStatusCodeHttpResult)?.StatusCode ?? 0);
        }
        else
        {
            ProcessesLog.Started(logger, process.Id, start.Source, run.Id);
        }

        return execution;
    }

    /// <summary>The execution with its run's state as it is now (for lists: runs still going are read again).</summary>
    public async ValueTask<ProcessExecutionRecord?> ResolveAsync(ProcessExecutionRecord execution, CancellationToken cancellationToken) =>
        execution is { Status: ProcessExecutionStatus.Running, RunId: { } runId } && (await runs.Store.LoadAsync(runId, cancellationToken))?.Document is { } run
            ? Refresh(execution, run)
            : execution;

    public static ProcessExecutionRecord Refresh(ProcessExecutionRecord execution, ExecutionDocument run) => run.Status switch
    {
        ExecutionStatus.Succeeded => execution with { Status = ProcessExecutionStatus.Success, Message = "The workflow run succeeded.", CompletedAt = run.CompletedAt },
        ExecutionStatus.Failed => execution with { Status = ProcessExecutionStatus.Failed, Message = run.Error?.Message ?? "The workflow run failed.", CompletedAt = run.CompletedAt },
        ExecutionStatus.Cancelled or ExecutionStatus.TimedOut => execution with
        {
            Status = ProcessExecutionStatus.Failed,
            Message = $"The workflow run ended {run.Status.Replace('_', ' ')}.",
            CompletedAt = run.CompletedAt,
        },
        _ => execution with { Status = ProcessExecutionStatus.Running, Message = $"The workflow run is {run.Status}; follow it at /api/v1/executions/{run.Id}." },
    };

    // The runner's refusals are error results meant for an HTTP caller; an execution keeps a sentence instead.
    private static string NotStarted(IResult? error) => (error as IStatusCodeHttpResult)?.StatusCode switch
    {
        StatusCodes.Status404NotFound => "The process's workflow was not found.",
        StatusCodes.Status409Conflict => "The process's workflow is not active; only ACTIVE workflows run.",
        StatusCodes.Status422UnprocessableEntity => "The workflow's definition cannot run yet, or the process's inputs do not match its inputs schema.",
        StatusCodes.Status429TooManyRequests => "Too many runs are waiting in this workspace; the run was not started.",
        _ => "The workflow run could not be started.",
    };
}
