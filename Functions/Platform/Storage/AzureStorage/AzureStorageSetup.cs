using Microsoft.Extensions.Options;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

internal static class AzureStorageSetup
{
    // Long enough to ride out a brief outage or throttling burst, short enough that a request still answers.
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(400);

    /// <summary>The Azure Storage adapters: Table, Queue and Blob REST clients over one request pipeline.</summary>
    public static IServiceCollection AddAzureStorage(this IServiceCollection services)
    {
        services.AddEntraTokens();
        services.AddSingleton(sp => StorageAccount.FromOptions(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton(sp =>
        {
            var account = sp.GetRequiredService<StorageAccount>();
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            IStorageAuthorizer authorizer = account.SharedKey is { } key
                ? new SharedKeyAuthorizer(account.Name, key)
                : new TokenAuthorizer(sp.GetRequiredService<EntraTokenCache>());
            return new StoragePipeline(
                StoragePipeline.CreateHandler(),
                authorizer,
                options.MaxRetries,
                TimeSpan.FromSeconds(options.RequestTimeoutSeconds),
                FirstRetryDelay,
                sp.GetRequiredService<ILogger<StoragePipeline>>());
        });
        services.AddSingleton<TableRestClient>();
        services.AddSingleton<QueueRestClient>();
        services.AddSingleton<BlobRestClient>();
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
            StorageAccount.FromOptions(options);
            return ValidateOptionsResult.Success;
        }
        catch (FormatException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}
