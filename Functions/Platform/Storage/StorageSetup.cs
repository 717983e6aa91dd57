using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Storage.AzureStorage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>Registers the storage adapters that section <c>Storage</c> selects.</summary>
internal static class StorageSetup
{
    public const string SqliteProvider = "Sqlite";
    public const string AzureStorageProvider = "AzureStorage";

    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(StorageOptions.Section);
        services.AddOptions<StorageOptions>()
            .Bind(section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), $"{StorageOptions.Section}:{nameof(StorageOptions.DataDirectory)} must not be empty.")
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // The provider decides which types get registered, so it is read now rather than through IOptions later:
        // a misspelt provider stops the host at startup instead of at the first request that touches storage.
        var provider = section.Get<StorageOptions>()?.Provider ?? new StorageOptions().Provider;
        services.TryAddSingleton(TimeProvider.System);
        if (string.Equals(provider, SqliteProvider, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<SqliteDatabase>();
            services.AddSingleton<IEntityStore, SqliteEntityStore>();
            services.AddSingleton<IWorkQueue, SqliteWorkQueue>();
            services.AddSingleton<IBlobStore, FileBlobStore>();
            services.AddSingleton<IGeneratedSecrets, FileGeneratedSecrets>();
        }
        else if (string.Equals(provider, AzureStorageProvider, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<IValidateOptions<StorageOptions>, AzureStorageOptionsValidation>();
            services.AddAzureStorage();
        }
        else
        {
            throw new InvalidOperationException(
                $"{StorageOptions.Section}:{nameof(StorageOptions.Provider)} is '{provider}'; use '{SqliteProvider}' or '{AzureStorageProvider}'.");
        }

        return services;
    }
}
