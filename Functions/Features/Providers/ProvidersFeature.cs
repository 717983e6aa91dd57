using Serverless.Functions.Features.Health;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Providers;

internal static class ProvidersFeature
{
    public static IServiceCollection AddProviders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ProviderStore>();
        services.AddSingleton<IWorkspaceProviderSource>(sp => sp.GetRequiredService<ProviderStore>());
        // Operator providers are known at start, so each gets its own monitoring component.
        var settings = configuration.GetSection(ModelsOptions.Section).Get<ModelsOptions>() ?? new ModelsOptions();
        foreach (var provider in settings.Providers.Where(p => ProviderRules.IsValidBaseUrl(p.BaseUrl, out _)))
        {
            var definition = ProviderDefinition.FromSettings(provider);
            services.AddSingleton<IHealthProbe>(sp => new ProviderHealthProbe(definition, sp.GetRequiredService<ProviderHealth>()));
        }

        if (settings.Discover && settings.Providers.Count == 0)
        {
            services.AddSingleton<IHealthProbe, DiscoveredProvidersProbe>();
        }

        return services;
    }

    public static IEndpointRouteBuilder MapProviders(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/providers").WithTags("Providers");
        group.MapGet("/", ListProviders.HandleAsync).WithName("ListProviders")
            .WithSummary("List the workspace's own model providers (API keys are never returned)")
            .RequireScope(Scopes.ProvidersRead).RequireWorkspace().Returns<IReadOnlyList<ProviderDto>>().Errors(422);
        group.MapPost("/", CreateProvider.HandleAsync).WithName("CreateProvider")
            .WithSummary("Add a provider for this workspace (admin); its API key is write-only and encrypted at rest")
            .RequireScope(Scopes.ProvidersWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<ProviderDto>(201).Errors(403, 409, 422);
        group.MapGet("/health", GetProvidersHealth.HandleAsync).WithName("GetProvidersHealth")
            .WithSummary("ForgeTM provider health: {status, took_ms, providers:{name:{name, ok, latency_ms, url}}}")
            .RequireScope(Scopes.ProvidersRead).RequireWorkspace().Returns<GetProvidersHealth.Response>();
        group.MapGet("/{id}", GetProvider.HandleAsync).WithName("GetProvider")
            .WithSummary("One of the workspace's providers")
            .RequireScope(Scopes.ProvidersRead).RequireWorkspace().Returns<ProviderDto>().Errors(404);
        group.MapPut("/{id}", UpdateProvider.HandleAsync).WithName("UpdateProvider")
            .WithSummary("Change any subset of a provider's fields (apiKey: \"\" removes the key)")
            .RequireScope(Scopes.ProvidersWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<ProviderDto>().Errors(403, 404, 409, 422);
        group.MapDelete("/{id}", DeleteProvider.HandleAsync).WithName("DeleteProvider")
            .WithSummary("Delete one of the workspace's providers")
            .RequireScope(Scopes.ProvidersWrite).RequireWorkspace(WorkspaceRole.Admin).Produces(204).Errors(403, 404);

        app.MapGet(OpenAiErrors.PathPrefix + "/providers", GetProviderCatalog.HandleAsync).WithName("GetProviderCatalog").WithTags("OpenAI-compatible")
            .WithSummary("ForgeTM: configured providers and their models, and how many answer")
            .RequireScope(Scopes.ProvidersRead).RequireWorkspace().Produces<GetProviderCatalog.Response>();
        return app;
    }
}
