using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Ollama;

internal static class OllamaFeature
{
    public static IServiceCollection AddOllama(this IServiceCollection services) => services.AddSingleton<OllamaServer>();

    public static IEndpointRouteBuilder MapOllama(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ollama").WithTags("Ollama");
        group.MapGet("/models", ListOllamaModels.HandleAsync).WithName("ListOllamaModels")
            .WithSummary("The models on the Ollama server (?provider=name; default: the first Ollama provider)")
            .RequireScope(Scopes.ProvidersRead).RequireWorkspace().Returns<ListOllamaModels.Response>().Errors(404, 502, 504);
        group.MapPost("/generate", GenerateWithOllama.HandleAsync).WithName("GenerateWithOllama")
            .WithSummary("Ollama generate; stream:true answers Ollama's NDJSON chunks as they arrive; usage is recorded")
            .RequireScope(Scopes.ModelsUse).RequireWorkspace().WithRateLimitClass(RateLimitClass.Execute)
            .Returns<object>().Produces(200, contentType: "application/x-ndjson").Errors(400, 403, 404, 422, 429, 502, 504);
        group.MapPost("/pull", PullOllamaModel.HandleAsync).WithName("PullOllamaModel")
            .WithSummary("Pull a model; streams Ollama's progress (NDJSON) as it arrives (stream:false waits and answers once)")
            .RequireScope(Scopes.ProvidersWrite).RequireWorkspace(WorkspaceRole.Admin)
            .Returns<object>().Produces(200, contentType: "application/x-ndjson").Errors(403, 404, 422, 502);
        group.MapDelete("/models/{name}", DeleteOllamaModel.HandleAsync).WithName("DeleteOllamaModel")
            .WithSummary("Remove a model from the Ollama server")
            .RequireScope(Scopes.ProvidersWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<DeleteOllamaModel.Response>().Errors(403, 404, 502, 504);
        return app;
    }
}
