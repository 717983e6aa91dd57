using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Otto;

/// <summary>Otto (AutoGPT's assistant): questions about the workspace's workflows and the platform, and workflow proposals the client may save.</summary>
internal static class OttoFeature
{
    public static IServiceCollection AddOtto(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OttoOptions>().Bind(configuration.GetSection(OttoOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OttoSessions>();
        services.AddSingleton<OttoSources>();
        return services;
    }

    public static IEndpointRouteBuilder MapOtto(this IEndpointRouteBuilder app)
    {
        var otto = app.MapGroup("/api/v1/otto").WithTags("Otto");
        // Otto only reads the workspace (a proposal is returned, never saved), so reading workflows and using models is enough.
        otto.MapPost("/assist", AskOtto.HandleAsync).WithName("AskOtto")
            .WithSummary("Otto: answers about the workspace's workflows, runs and blocks through model tool calls, and may propose a validated graph; {sessionId, message, proposal, toolCalls[]}")
            .RequireScope(Scopes.WorkflowsRead).RequireScope(Scopes.ModelsUse).RequireWorkspace()
            .WithRateLimitClass(RateLimitClass.Execute)
            .Returns<AskOtto.Reply>().Errors(402, 403, 404, 422, 429, 502, 504);
        return app;
    }
}
