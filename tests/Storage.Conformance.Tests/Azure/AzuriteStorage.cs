using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Storage;
using Serverless.Testing;

namespace Serverless.Storage.Conformance.Tests.Azure;

/// <summary>
/// The Azure adapters wired exactly as the app wires them (<see cref="StorageSetup.AddStorage"/> with the
/// AzureStorage provider), against the Azurite this test run shares. Tests use names of their own, so they share
/// these adapters as the app's requests do.
/// </summary>
internal static class AzuriteStorage
{
    private static readonly Lazy<Task<ServiceProvider>> Services = new(CreateAsync);

    public static async Task<T> GetAsync<T>()
        where T : notnull => (await Services.Value).GetRequiredService<T>();

    public static IConfiguration Configuration(string connectionString, IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = StorageSetup.AzureStorageProvider,
            ["Storage:ConnectionString"] = connectionString,
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    private static async Task<ServiceProvider> CreateAsync()
    {
        var azurite = await Azurite.SharedAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStorage(Configuration(azurite.ConnectionString));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
