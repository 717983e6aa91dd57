using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class WorkflowsFeature
{
    public static IServiceCollection AddWorkflows(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WorkflowsOptions>().Bind(configuration.GetSection(WorkflowsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<WorkflowsOptions>>().Value;
            return new EngineOptions
            {
                MaxRunningPerWorkspace = o.MaxRunningPerWorkspace,
                MaxQueuedPerWorkspace = o.MaxQueuedPerWorkspace,
            };
        });
        services.AddSingleton(sp => new OutboundHttpPolicy
        {
            AllowedPrivateHosts = sp.GetRequiredService<IOptions<HttpOptions>>().Value.AllowedPrivateHostList,
        });
        services.AddOptions<CodeNodeOptions>().Bind(configuration.GetSection(CodeNodeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CodeNodeLimits>(sp => sp.GetRequiredService<IOptions<CodeNodeOptions>>().Value);
        services.AddSingleton<INodeType, StartNode>();
        services.AddSingleton<INodeType, EndNode>();
        services.AddSingleton<INodeType, TemplateNode>();
        services.AddSingleton<INodeType, SetNode>();
        services.AddSingleton<INodeType, ConditionNode>();
        services.AddSingleton<INodeType, MergeNode>();
        services.AddSingleton<INodeType, DelayNode>();
        services.AddSingleton<INodeType, HumanReviewNode>();
        services.AddSingleton<INodeType, SubWorkflowNode>();
        services.AddSingleton<INodeType, LoopNode>();
        services.AddSingleton<INodeType, HttpRequestNode>();
        services.AddSingleton<INodeType, CodeNode>();
        services.AddSingleton<NodeRegistry>();
        services.AddSingleton<DefinitionValidator>();
        services.AddSingleton<IIdGenerator, IdGenerator>();
        services.AddSingleton<WorkflowStore>();
        services.AddSingleton<IWorkflowCatalog>(sp => sp.GetRequiredService<WorkflowStore>());
        services.AddSingleton<ExecutionNotifier>();
        services.AddSingleton<IExecutionObserver>(sp => sp.GetRequiredService<ExecutionNotifier>());
        services.AddSingleton<IRunCompletionListener, RunEndEvents>();
        services.AddSingleton<WorkflowRuns>();
        services.AddSingleton<WorkflowRunner>();
        return services;
    }

    public static IEndpointRouteBuilder MapWorkflows(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/blocks", ListBlocks.Handle).WithName("ListBlocks").WithTags("Workflows")
            .WithSummary("The node types a workflow can use, with their config and output JSON schemas")
            .RequireScope(Scopes.WorkflowsRead).Returns<IReadOnlyList<ListBlocks.BlockDto>>();

        var workflows = app.MapGroup("/api/v1/workflows").WithTags("Workflows");
        workflows.MapGet("/", ListWorkflows.HandleAsync).WithName("ListWorkflows")
            .WithSummary("List workflows (archived ones only when asked for by status)")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<WorkflowSummaryDto>>().Errors(422);
        workflows.MapPost("/", CreateWorkflow.HandleAsync).WithName("CreateWorkflow")
            .WithSummary("Create a workflow (version 1); the definition is validated")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<WorkflowDto>(201).Errors(403, 422);
        workflows.MapGet("/{id}", GetWorkflow.HandleAsync).WithName("GetWorkflow")
            .WithSummary("Read a workflow with its current definition")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<WorkflowDto>().Errors(404);
        workflows.MapPut("/{id}", UpdateWorkflow.HandleAsync).WithName("UpdateWorkflow")
            .WithSummary("Change any of the fields; a new definition makes a new version; status alone moves the lifecycle")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Returns<WorkflowDto>().Errors(404, 409, 422);
        workflows.MapDelete("/{id}", DeleteWorkflow.HandleAsync).WithName("DeleteWorkflow")
            .WithSummary("Delete a workflow and its versions (runs keep their copy)")
            .RequireScope(Scopes.WorkflowsWrite).RequireWorkspace(WorkspaceRole.Member).Produces(204).Errors(404, 409);
        workflows.MapGet("/{id}/versions", ListWorkflowVersions.HandleAsync).WithName("ListWorkflowVersions")
            .WithSummary("The workflow's versions, newest first")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<WorkflowVersionDto>>().Errors(404);
        workflows.MapPost("/{id}/execute", ExecuteWorkflow.HandleAsync).WithName("ExecuteWorkflow")
            .WithSummary("Start a run; answers 202 with the execution id at once (Idempotency-Key gives the same execution back)")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ExecutionAcceptedDto>(202).Errors(404, 409, 422, 429);
        workflows.MapPost("/{id}/run", RunWorkflow.HandleAsync).WithName("RunWorkflow")
            .WithSummary("Start a run and wait for it (options.timeout ms, default 30 s); 202 when it is still going; options.stream for SSE")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<RunWorkflow.Response>().Returns<RunWorkflow.Response>(202).Errors(404, 409, 422, 429);
        workflows.MapGet("/{id}/status", GetWorkflowStatus.HandleAsync).WithName("GetWorkflowStatus")
            .WithSummary("The workflow's lifecycle status and its latest execution")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<GetWorkflowStatus.Response>().Errors(404);

        var executions = app.MapGroup("/api/v1/executions").WithTags("Executions");
        executions.MapGet("/", ListExecutions.HandleAsync).WithName("ListExecutions")
            .WithSummary("List runs (filter workflowId, status, from, to)")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<ExecutionSummaryDto>>().Errors(422);
        executions.MapGet("/review/pending", ListPendingReviews.HandleAsync).WithName("ListPendingReviews")
            .WithSummary("Human-review nodes waiting for a decision")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<IReadOnlyList<ListPendingReviews.PendingReviewDto>>();
        executions.MapGet("/{id}", GetExecution.HandleAsync).WithName("GetExecution")
            .WithSummary("A run: status, outputs, and each node's input, output, error, attempts and timings")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Returns<ExecutionDto>().Errors(404);
        executions.MapPost("/{id}/stop", StopExecution.HandleAsync).WithName("StopExecution")
            .WithSummary("Stop a run and its child runs")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).Returns<ExecutionSummaryDto>().Errors(404, 409);
        executions.MapPost("/{id}/retry", RetryExecution.HandleAsync).WithName("RetryExecution")
            .WithSummary("Resume a failed, cancelled or timed-out run from the nodes that did not finish")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ExecutionSummaryDto>(202).Errors(404, 409);
        executions.MapPost("/{id}/review", SubmitReview.HandleAsync).WithName("SubmitReview")
            .WithSummary("Approve or reject a human-review node")
            .RequireScope(Scopes.WorkflowsExecute).RequireWorkspace(WorkspaceRole.Member).Returns<SubmitReview.Response>(202).Errors(404, 409, 422);
        executions.MapGet("/{id}/events", StreamExecutionEvents.HandleAsync).WithName("StreamExecutionEvents")
            .WithSummary("Server-sent events: the run's log, then live events; resumable with Last-Event-ID; ends after the terminal event")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().Produces(200, contentType: "text/event-stream").Errors(404);

        app.MapGet("/api/v1/ws", ExecutionSocket.HandleAsync).WithName("ExecutionEventsSocket").WithTags("Executions")
            .WithSummary("WebSocket: subscribe to runs or workflows and receive their events (token also accepted as ?access_token=)")
            .RequireScope(Scopes.WorkflowsRead).RequireWorkspace().AsWebSocket().Errors(400);
        return app;
    }
}
