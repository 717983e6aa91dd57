using Azure.Core;
using Microsoft.Extensions.Options;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

internal static class AzureStorageSetup
{
    /// <summary>The Azure Storage adapters over the Azure SDK's Table, Queue and Blob clients.</summary>
    public static IServiceCollection AddAzureStorage(this IServiceCollection services)
    {
        services.AddAppIdentity();
        services.AddSingleton(sp => AzureStorageClients.Create(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value,
            sp.GetRequiredService<TokenCredential>,
            sp.GetRequiredService<ILogger<AzureStorageClients>>()));
        services.AddSingleton(sp => sp.GetRequiredService<AzureStorageClients>().Tables);
        services.AddSingleton(sp => sp.GetRequiredService<AzureStorageClients>().Queues);
        services.AddSingleton(sp => sp.GetRequiredService<AzureStorageClients>().Blobs);
        services.AddSingleton<IEntityStore, AzureTableEntityStore>();
        services.AddSingleton<IWorkQueue, AzureQueueWorkQueue>();
        services.AddSingleton<IBlobStore, AzureBlobStore>();
        services.AddSingleton<IGeneratedSecrets, BlobGeneratedSecrets>();
        return services;
    }
}

/// <summary>With the AzureStorage provider, the account settings must describe an account: checked at startup.</summary>
internal sealed class AzureStorageOptionsValidation : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        try
        {
            // Building the clients sends nothing; the credential is not needed to see whether the settings hold together.
            using var clients = AzureStorageClients.Create(options, () => NoCredential.Instance, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            return ValidateOptionsResult.Success;
        }
        catch (FormatException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }

    /// <summary>Stands in for the app's credential while settings are checked; never asked for a token.</summary>
    private sealed class NoCredential : TokenCredential
    {
        public static readonly NoCredential Instance = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Settings validation sends no request.");

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Settings validation sends no request.");
    }
}
