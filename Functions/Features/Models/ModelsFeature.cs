using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Functions.Features.Models;

/// <summary>
/// The OpenAI-compatible API (<c>/v1</c>, OpenAI's exact shapes, so OpenAI clients work unchanged) and the usage
/// analytics over the gateway's usage rows. The gateway itself is <c>Platform/Ai/ModelGateway</c>, shared with
/// every feature that calls models in-process.
/// </summary>
internal static class ModelsFeature
{
    /// <summary>The workflow node types that call models (llm, question_classifier, parameter_extractor), found by the node registry.</summary>
    public static IServiceCollection AddModels(this IServiceCollection services)
    {
        services.AddSingleton<ModelNodeCalls>();
        services.AddSingleton<INodeType, LlmNode>();
        services.AddSingleton<INodeType, QuestionClassifierNode>();
        services.AddSingleton<INodeType, ParameterExtractorNode>();
        return services;
    }

    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder app)
    {
        var openAi = app.MapGroup(OpenAiErrors.PathPrefix).WithTags("OpenAI-compatible");
        openAi.MapGet("/models", ListModels.HandleAsync).WithName("ListModels")
            .WithSummary("OpenAI: list the models this workspace (and this key's allow-list) can call")
            .RequireScope(Scopes.ModelsUse).RequireWorkspace().Produces<ListModels.Response>();
        openAi.MapPost("/chat/completions", CreateChatCompletion.HandleAsync).WithName("CreateChatCompletion")
            .WithSummary("OpenAI: chat completion, or an SSE stream with stream:true (tools, response_format, stream_options pass through)")
            .RequireScope(Scopes.ModelsUse).RequireWorkspace().WithRateLimitClass(RateLimitClass.Execute)
            .Produces(200, contentType: "application/json").Produces(200, contentType: "text/event-stream")
            .Produces<OpenAiErrorBody>(400).Produces<OpenAiErrorBody>(402).Produces<OpenAiErrorBody>(403).Produces<OpenAiErrorBody>(404)
            .Produces<OpenAiErrorBody>(429).Produces<OpenAiErrorBody>(502).Produces<OpenAiErrorBody>(504);
        openAi.MapPost("/embeddings", CreateEmbeddings.HandleAsync).WithName("CreateEmbeddings")
            .WithSummary("OpenAI: embeddings")
            .RequireScope(Scopes.ModelsUse).RequireWorkspace().WithRateLimitClass(RateLimitClass.Execute)
            .Produces(200, contentType: "application/json")
            .Produces<OpenAiErrorBody>(400).Produces<OpenAiErrorBody>(404).Produces<OpenAiErrorBody>(429).Produces<OpenAiErrorBody>(502);
        openAi.MapGet("/analytics/user/{userId}", GetUserUsage.HandleAsync).WithName("GetUserUsage")
            .WithSummary("ForgeTM: one user's tokens, requests and cost per model in this workspace (start_date, end_date, model)")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Produces<GetUserUsage.Response>().Produces<OpenAiErrorBody>(400);

        app.MapGet("/api/v1/analytics/usage", ListUsage.HandleAsync).WithName("ListModelUsage").WithTags("Analytics")
            .WithSummary("The workspace's model calls: tokens, cost, latency, time to first token, status (filters: model, userId, apiKeyId, provider, status, from, to); with groupBy=hour|day|week|model|provider|app|workflow|apiKey|user (from, to, tz): requests, tokens in/out, cost, runs and errors per group")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<IReadOnlyList<UsageDto>>().Errors(422);
        return app;
    }
}

internal sealed record UsageDto(
    string Id, string? UserId, string? ApiKeyId, string Model, string? Provider, string Operation, bool Stream,
    int PromptTokens, int CompletionTokens, int TotalTokens, decimal CostUsd, long LatencyMs, long? TimeToFirstTokenMs,
    string Status, string Source, DateTimeOffset CreatedAt)
{
    public static UsageDto From(Platform.Ai.UsageRecord u) => new(u.Id, u.UserId, u.ApiKeyId, u.Model, u.Provider, u.Operation, u.Stream,
        u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.CostUsd, u.LatencyMs, u.TimeToFirstTokenMs, u.Status, u.Source, u.CreatedAt);
}
