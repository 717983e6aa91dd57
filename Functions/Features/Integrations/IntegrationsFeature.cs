using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Triggers;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Integrations;

/// <summary>
/// AutoGPT-style integrations: a catalog of providers and the workspace's stored credentials for them, encrypted and
/// never returned, used by reference (credentialId) by nodes and plugins through <see cref="ICredentialResolver"/>.
/// </summary>
internal static class IntegrationsFeature
{
    public static IServiceCollection AddIntegrations(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IntegrationsOptions>().Bind(configuration.GetSection(IntegrationsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IntegrationGuard>();
        services.AddSingleton<IntegrationStore>();
        services.AddSingleton<CredentialResolver>();
        services.AddSingleton<ICredentialResolver>(sp => sp.GetRequiredService<CredentialResolver>());
        services.AddSingleton<CredentialTester>();
        services.AddSingleton<CredentialExpiries>();
        services.AddTriggerFunctions<IntegrationsFunctions>();
        return services;
    }

    public static IEndpointRouteBuilder MapIntegrations(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/integrations").WithTags("Integrations");
        group.MapGet("/providers", ListIntegrationProviders.Handle).WithName("ListIntegrationProviders")
            .WithSummary("The provider catalog: type (api_key, oauth2, basic, bearer), credential fields (which are secret), the headers or query they fill, the hosts a credential may be sent to, the test request")
            .RequireScope(Scopes.IntegrationsRead).Returns<IReadOnlyList<ListIntegrationProviders.ProviderDto>>();
        group.MapGet("/", ListIntegrations.HandleAsync).WithName("ListIntegrations")
            .WithSummary("The workspace's stored credentials (never their secrets): search, status active|expired, sortBy createdAt|name|provider; cursor or page")
            .RequireScope(Scopes.IntegrationsRead).RequireWorkspace().Returns<IReadOnlyList<IntegrationDto>>().Errors(422);
        group.MapPost("/", CreateIntegration.HandleAsync).WithName("CreateIntegration")
            .WithSummary("Store a credential {provider, name, credentials: {field: value}, expiresAt?}; secret fields are encrypted and never returned")
            .RequireScope(Scopes.IntegrationsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<IntegrationDto>(201).Errors(400, 403, 409, 422);
        group.MapGet("/{id}", GetIntegration.HandleAsync).WithName("GetIntegration")
            .WithSummary("One stored credential (never its secret)")
            .RequireScope(Scopes.IntegrationsRead).RequireWorkspace().Returns<IntegrationDto>().Errors(404);
        group.MapPut("/{id}", UpdateIntegration.HandleAsync).WithName("UpdateIntegration")
            .WithSummary("Rename, change fields or rotate the secret {name?, credentials?, expiresAt?}; a new secret makes the credential active again")
            .RequireScope(Scopes.IntegrationsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<IntegrationDto>().Errors(400, 403, 404, 409, 422);
        group.MapDelete("/{id}", DeleteIntegration.HandleAsync).WithName("DeleteIntegration")
            .WithSummary("Delete a stored credential (nodes naming it fail with CREDENTIAL_NOT_FOUND)")
            .RequireScope(Scopes.IntegrationsWrite).RequireWorkspace(WorkspaceRole.Admin).Produces(204).Errors(403, 404);
        group.MapPost("/{id}/test", TestIntegration.HandleAsync).WithName("TestIntegration")
            .WithSummary("Make the provider's test request with the credential → {ok, status, latencyMs, error?}; 401/403 marks it expired and raises credential.expired once")
            .RequireScope(Scopes.IntegrationsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<TestIntegration.Reply>().Errors(403, 404, 422);

        app.MapGet(OpenAiErrors.PathPrefix + "/integrations", ListIntegrations.HandleExternalAsync).WithName("ListExternalIntegrations").WithTags("Integrations")
            .WithSummary("AutoGPT's external API: the workspace's stored credentials as a bare list, newest first (X-API-Key with integrations:read)")
            .RequireScope(Scopes.IntegrationsRead).RequireWorkspace().Produces<IReadOnlyList<IntegrationDto>>();
        return app;
    }
}
