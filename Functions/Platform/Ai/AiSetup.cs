using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Ai;

internal static class AiSetup
{
    public static IServiceCollection AddModelGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelsOptions>().Bind(configuration.GetSection(ModelsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelsOptions>, ModelsOptionsValidator>();
        // An azure-openai provider without a key authenticates as the app's identity.
        services.AddAppIdentity();
        services.AddSingleton<EndpointGuard>();
        services.AddSingleton<UpstreamClients>();
        services.AddSingleton<ProviderDiscovery>();
        services.AddHostedService(sp => sp.GetRequiredService<ProviderDiscovery>());
        services.AddSingleton<ProviderDirectory>();
        services.AddSingleton<ProviderHealth>();
        services.AddSingleton<UsageLedger>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageLedger>());
        services.AddSingleton<KeyQuotas>();
        // The credits feature replaces this when it is registered.
        services.TryAddSingleton<IModelSpending, FreeModelSpending>();
        services.AddSingleton<CredentialAlarms>();
        services.AddSingleton<ModelGateway>();
        services.AddSingleton<AgentLoop>();
        return services;
    }
}
