using Serverless.Functions.Features.Tasks;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.Processes;

/// <summary>
/// Behflow's automated processes: a workflow run started by hand, on a cron schedule in a time zone
/// (the FireDueProcesses timer), or by a platform event (an <see cref="IPlatformEventHandler"/>). A process is a way
/// to start a workflow, so it takes the workflows scopes.
/// </summary>
internal static class ProcessesFeature
{
    public static IServiceCollection AddProcesses(this IServiceCollection services)
    {
        services.AddSingleton<ProcessStore>();
        services.AddSingleton<ProcessExecutor>();
        services.AddSingleton<IAssistantToolSet, ProcessAssistantTools>();
        services.AddSingleton<FireDueProcesses>();
        services.AddSingleton<IPlatformEventHandler, ProcessEventHandler>();
        services.AddTriggerFunctions<ProcessesFunctions>();
        return services;
    }

    public static IEndpointRouteBuilder MapProcesses(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/processes").WithTags("Processes");
        group.MapGet("/", ListProcesses.HandleAsync).WithName("ListProcesses")
            .WithSummary("List processes: trigger_type, search; sortBy createdAt|name; cursor or page")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<ProcessDto>>().Errors(422);
        group.MapPost("/", CreateProcess.HandleAsync).WithName("CreateProcess")
            .WithSummary("Create a process: trigger_type manual|time_based (schedule, timezone)|event_based (event {name, filter}), action {workflowId, inputs}")
            .Accepts<CreateProcess.Request>("application/json")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<ProcessDto>(201).Errors(400, 404, 409, 422);
        group.MapGet("/{id}", GetProcess.HandleAsync).WithName("GetProcess")
            .WithSummary("One process, with last_execution and next_run")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<ProcessDto>().Errors(404);
        group.MapPut("/{id}", UpdateProcess.HandleAsync).WithName("UpdateProcess")
            .WithSummary("Change any subset of a process's fields; a changed schedule moves next_run")
            .Accepts<CreateProcess.Request>("application/json")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<ProcessDto>().Errors(400, 404, 422);
        group.MapDelete("/{id}", DeleteProcess.HandleAsync).WithName("DeleteProcess")
            .WithSummary("Delete a process; its schedule and events stop at once")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);
        group.MapPost("/{id}/execute", ExecuteProcess.HandleAsync).WithName("ExecuteProcess")
            .WithSummary("Run the process's workflow now: {execution_id, process_id, status success|failed|running, message, started_at, completed_at}")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ProcessExecutionDto>().Errors(404, 429);
        group.MapGet("/{id}/executions", ListProcessExecutions.HandleAsync).WithName("ListProcessExecutions")
            .WithSummary("The process's executions, newest first; cursor or page")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<ProcessExecutionDto>>().Errors(404, 422);
        return app;
    }
}
