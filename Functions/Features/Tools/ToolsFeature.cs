using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tools;

/// <summary>
/// AutoGPT's tools: run one block or plugin by id, outside any workflow. Scopes depend on the tool (plugins:execute for a
/// plugin; workflows:execute for a block, plus models:use for model blocks), so the runner checks them, not the route.
/// </summary>
internal static class ToolsFeature
{
    public static IServiceCollection AddTools(this IServiceCollection services) => services.AddSingleton<ToolRunner>();

    public static IEndpointRouteBuilder MapTools(this IEndpointRouteBuilder app)
    {
        const string summary = "Run a block (a node type that works alone) or a plugin by id: {tool, input} → {tool, kind, status, output, branch?, executionId?, latencyMs}";
        app.MapPost("/api/v1/tools/execute", ExecuteTool.HandleAsync).WithName("ExecuteTool").WithTags("Tools")
            .WithSummary(summary)
            .RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Returns<ToolResult>().Errors(403, 404, 409, 422, 429, 502, 504);
        app.MapPost(OpenAiErrors.PathPrefix + "/tools/execute", ExecuteTool.HandleExternalAsync).WithName("ExecuteExternalTool").WithTags("Tools")
            .WithSummary("AutoGPT's external API (X-API-Key): " + summary + ", answered bare")
            .RequireWorkspace(WorkspaceRole.Member).WithRateLimitClass(RateLimitClass.Execute)
            .Produces<ToolResult>();
        return app;
    }
}
