using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Triggers;

namespace Serverless.Functions.Features.WorkflowTriggers;

/// <summary>What starts a workflow besides a caller: schedules (cron in a time zone) and webhooks (a secret URL, optionally signed).</summary>
internal static class WorkflowTriggersFeature
{
    public static IServiceCollection AddWorkflowTriggers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WorkflowTriggersOptions>().Bind(configuration.GetSection(WorkflowTriggersOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TriggerStore>();
        services.AddSingleton<FireScheduledTriggers>();
        services.AddTriggerFunctions<WorkflowTriggersFunctions>();
        return services;
    }

    public static IEndpointRouteBuilder MapWorkflowTriggers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workflows/{id}/triggers").WithTags("Workflow triggers");
        group.MapGet("/", ListTriggers.HandleAsync).WithName("ListWorkflowTriggers")
            .WithSummary("The workflow's schedule and webhook triggers (a webhook's URL only as urlHint)")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<TriggerDto>>().Errors(404);
        group.MapPost("/", CreateTrigger.HandleAsync).WithName("CreateWorkflowTrigger")
            .WithSummary("Add a trigger: schedule {cron, timezone, inputs} or webhook {respond, secret}; a webhook's url and signing secret are shown only here")
            .Accepts<CreateTrigger.Request>("application/json")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<TriggerDto>(201).Errors(400, 404, 409, 422);
        group.MapDelete("/{triggerId}", DeleteTrigger.HandleAsync).WithName("DeleteWorkflowTrigger")
            .WithSummary("Delete a trigger; its webhook URL stops answering at once")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404);

        app.MapPost("/api/v1/hooks/{token}", ReceiveHook.HandleAsync).WithName("ReceiveWorkflowHook").WithTags("Workflow triggers")
            .WithSummary("Anonymous: start the webhook trigger's workflow with the request as inputs.request; 202 {executionId}, or 200 with outputs when it responds when_finished")
            .AllowAnonymous().Returns<ExecutionAcceptedDto>(202).Returns<RunWorkflow.Response>().Errors(401, 404, 409, 422, 429);
        return app;
    }
}
