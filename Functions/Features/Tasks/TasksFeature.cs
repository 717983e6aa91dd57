using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

/// <summary>Behflow's tasks and the task assistant that manages them through model tool calls.</summary>
internal static class TasksFeature
{
    public static IServiceCollection AddTasks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AssistantOptions>().Bind(configuration.GetSection(AssistantOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TaskBoard>();
        services.AddSingleton<AssistantSessions>();
        return services;
    }

    public static IEndpointRouteBuilder MapTasks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/tasks").WithTags("Tasks");
        group.MapGet("/", ListTasks.HandleAsync).WithName("ListTasks")
            .WithSummary("List tasks: status, priority, tag, dueBefore, search; sortBy createdAt|updatedAt|dueDate|priority|name|status; cursor or page")
            .RequireScope(Scopes.TasksRead).RequireWorkspace().Returns<IReadOnlyList<TaskDto>>().Errors(422);
        group.MapPost("/", CreateTask.HandleAsync).WithName("CreateTask")
            .WithSummary("Create a task (status defaults to not_started, priority to medium)")
            .Accepts<CreateTask.Request>("application/json")
            .RequireScope(Scopes.TasksWrite).RequireWorkspace(WorkspaceRole.Member).Returns<TaskDto>(201).Errors(400, 422);
        group.MapGet("/{id}", GetTask.HandleAsync).WithName("GetTask")
            .WithSummary("One task").RequireScope(Scopes.TasksRead).RequireWorkspace().Returns<TaskDto>().Errors(404);
        group.MapPut("/{id}", UpdateTask.HandleAsync).WithName("UpdateTask")
            .WithSummary("Change any subset of a task's fields (\"dueDate\": null removes the due date)")
            .Accepts<UpdateTask.Request>("application/json")
            .RequireScope(Scopes.TasksWrite).RequireWorkspace(WorkspaceRole.Member).Returns<TaskDto>().Errors(400, 404, 422);
        group.MapDelete("/{id}", DeleteTask.HandleAsync).WithName("DeleteTask")
            .WithSummary("Delete a task").RequireScope(Scopes.TasksWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);

        app.MapPost("/api/v1/assistant/chat", ChatWithAssistant.HandleAsync).WithName("ChatWithAssistant").WithTags("Tasks")
            .WithSummary("Behflow chat: the assistant creates, lists, updates and completes tasks through model tool calls; {response, sessionId, tasks[]}")
            .RequireScope(Scopes.TasksWrite).RequireScope(Scopes.ModelsUse).RequireWorkspace(WorkspaceRole.Member)
            .WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ChatWithAssistant.Reply>().Errors(402, 403, 404, 422, 429, 502, 504);
        return app;
    }
}
