using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Storage;
using Serverless.Functions.Platform.Storage.AzureStorage;
using Serverless.Orchestrations.Ports;
using Serverless.Testing;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class AzureStorageSetupTests
{
    [Theory]
    [InlineData("AzureStorage")]
    [InlineData("azurestorage")]
    public async Task AddStorage_AzureStorageProvider_ResolvesWorkingAzureAdapters(string provider)
    {
        var azurite = await Azurite.SharedAsync();
        await using var services = Build(AzuriteStorage.Configuration(azurite.ConnectionString, new Dictionary<string, string?> { ["Storage:Provider"] = provider }));

        var entities = services.GetRequiredService<IEntityStore>();
        await entities.PingAsync(CancellationToken.None);

        Assert.IsType<AzureTableEntityStore>(entities);
        Assert.IsType<AzureQueueWorkQueue>(services.GetRequiredService<IWorkQueue>());
        Assert.IsType<AzureBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.IsType<BlobGeneratedSecrets>(services.GetRequiredService<IGeneratedSecrets>());
    }

    [Fact]
    public async Task AddStorage_AzureStorageWithoutAnAccount_FailsOptionsValidationNamingTheSettings()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:Provider"] = "AzureStorage" })
            .Build();
        await using var services = Build(configuration);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("Storage:AccountName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddStorage_RetriesOutOfRange_FailsOptionsValidation()
    {
        await using var services = Build(AzuriteStorage.Configuration("UseDevelopmentStorage=true", new Dictionary<string, string?> { ["Storage:MaxRetries"] = "50" }));

        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);
    }

    [Fact]
    public async Task GeneratedSecret_AskedTwiceOrByAnotherInstance_IsTheSameSecret()
    {
        var azurite = await Azurite.SharedAsync();
        var name = $"test-{Guid.NewGuid():N}.key";
        await using var first = Build(AzuriteStorage.Configuration(azurite.ConnectionString));
        await using var second = Build(AzuriteStorage.Configuration(azurite.ConnectionString));

        var created = await first.GetRequiredService<IGeneratedSecrets>().GetOrCreateAsync(name, 48, CancellationToken.None);
        var again = await first.GetRequiredService<IGeneratedSecrets>().GetOrCreateAsync(name, 48, CancellationToken.None);
        var elsewhere = await second.GetRequiredService<IGeneratedSecrets>().GetOrCreateAsync(name, 48, CancellationToken.None);

        Assert.Equal(48, created.Length);
        Assert.Equal(created, again);
        Assert.Equal(created, elsewhere);
    }

    private static ServiceProvider Build(IConfiguration configuration)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddStorage(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
