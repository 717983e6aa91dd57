using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>Registers the storage adapters that section <c>Storage</c> selects.</summary>
internal static class StorageSetup
{
    public const string SqliteProvider = "Sqlite";

    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(StorageOptions.Section);
        services.AddOptions<StorageOptions>()
            .Bind(section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), $"{StorageOptions.Section}:{nameof(StorageOptions.DataDirectory)} must not be empty.")
            .ValidateOnStart();

        // The provider decides which types get registered, so it is read now rather than through IOptions later:
        // a misspelt provider stops the host at startup instead of at the first request that touches storage.
        var provider = section.Get<StorageOptions>()?.Provider ?? new StorageOptions().Provider;
        if (!string.Equals(provider, SqliteProvider, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"{StorageOptions.Section}:{nameof(StorageOptions.Provider)} is '{provider}', but only '{SqliteProvider}' is available so far.");
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<IEntityStore, SqliteEntityStore>();
        services.AddSingleton<IWorkQueue, SqliteWorkQueue>();
        services.AddSingleton<IBlobStore, FileBlobStore>();
        return services;
    }
}
