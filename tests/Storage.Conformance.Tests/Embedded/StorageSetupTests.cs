using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Storage.Conformance.Tests.Embedded;

public sealed class StorageSetupTests : IDisposable
{
    private readonly EmbeddedStorage _storage = new();

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("sqlite")]
    public async Task AddStorage_SqliteProvider_ResolvesWorkingEmbeddedAdapters(string provider)
    {
        await using var services = Build(provider).BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var entities = services.GetRequiredService<IEntityStore>();
        await entities.PingAsync(CancellationToken.None);

        Assert.IsType<SqliteEntityStore>(entities);
        Assert.IsType<SqliteWorkQueue>(services.GetRequiredService<IWorkQueue>());
        Assert.IsType<FileBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.Same(entities, services.GetRequiredService<IEntityStore>());
        Assert.True(File.Exists(Path.Combine(_storage.DataDirectory, SqliteDatabase.FileName)));
    }

    [Fact]
    public void AddStorage_UnknownProvider_ThrowsNamingTheProvider()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build("CosmosDb"));

        Assert.Contains("CosmosDb", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _storage.Dispose();

    private ServiceCollection Build(string provider)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Storage:Provider"] = provider,
                ["Storage:DataDirectory"] = _storage.DataDirectory,
            })
            .Build();
        var services = new ServiceCollection();
        services.AddStorage(configuration);
        return services;
    }
}
