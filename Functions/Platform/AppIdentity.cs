using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Serverless.Functions.Platform;

internal static class AppIdentity
{
    /// <summary>
    /// The app's <see cref="TokenCredential"/>, which the Azure SDK clients (storage, and the keyless Azure OpenAI
    /// provider's <c>BearerTokenPolicy</c>) ask for tokens; tests put a fake one in its place.
    /// </summary>
    public static IServiceCollection AddAppIdentity(this IServiceCollection services)
    {
        services.TryAddSingleton<TokenCredential>(_ => CreateDefaultCredential());
        return services;
    }

    /// <summary>DefaultAzureCredential: managed identity in Azure (the user-assigned one named by AZURE_CLIENT_ID), the developer's sign-in locally.</summary>
    public static DefaultAzureCredential CreateDefaultCredential()
    {
        var options = new DefaultAzureCredentialOptions();
        if (Environment.GetEnvironmentVariable("AZURE_CLIENT_ID") is { Length: > 0 } clientId)
        {
            options.ManagedIdentityClientId = clientId;
        }

        return new DefaultAzureCredential(options);
    }
}
