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

    [Fact]
    public async Task GeneratedSecret_AskedAgainByANewInstance_IsTheSameAndReadableByTheOwnerOnly()
    {
        byte[] created;
        await using (var first = Build("Sqlite").BuildServiceProvider())
        {
            created = await first.GetRequiredService<IGeneratedSecrets>().GetOrCreateAsync("test.key", 48, CancellationToken.None);
        }

        await using var second = Build("Sqlite").BuildServiceProvider();
        var again = await second.GetRequiredService<IGeneratedSecrets>().GetOrCreateAsync("test.key", 48, CancellationToken.None);

        Assert.Equal(48, created.Length);
        Assert.Equal(created, again);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_storage.DataDirectory, "test.key")));
        }
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
