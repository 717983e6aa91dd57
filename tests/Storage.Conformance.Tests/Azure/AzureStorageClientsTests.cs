using System.Collections.Concurrent;
using Azure;
using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Functions.Platform.Storage;
using Serverless.Functions.Platform.Storage.AzureStorage;
using Serverless.Orchestrations.Ports;
using Serverless.Testing;

namespace Serverless.Storage.Conformance.Tests.Azure;

/// <summary>Each shape of section <c>Storage</c> builds SDK clients for the account it names, authenticated as it says.</summary>
public sealed class AzureStorageClientsTests
{
    private const string StorageScope = "https://storage.azure.com/.default";

    [Fact]
    public void Create_UseDevelopmentStorage_PointsAtAzuriteDefaultsWithoutTheCredential()
    {
        using var clients = Create(new StorageOptions { ConnectionString = "UseDevelopmentStorage=true" });

        Assert.Equal(
            ("http://127.0.0.1:10000/devstoreaccount1", "http://127.0.0.1:10001/devstoreaccount1", "http://127.0.0.1:10002/devstoreaccount1"),
            (Trimmed(clients.Blobs.Uri), Trimmed(clients.Queues.Uri), Trimmed(clients.Tables.Uri)));
        Assert.Equal(("devstoreaccount1", "devstoreaccount1", "devstoreaccount1"), (clients.Blobs.AccountName, clients.Queues.AccountName, clients.Tables.AccountName));
    }

    [Fact]
    public void Create_AccountKeyConnectionString_DerivesEndpointsFromProtocolAndSuffix()
    {
        using var clients = Create(new StorageOptions { ConnectionString = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn" });

        Assert.Equal("https://acme.queue.core.chinacloudapi.cn", Trimmed(clients.Queues.Uri));
        Assert.Equal("https://acme.table.core.chinacloudapi.cn", Trimmed(clients.Tables.Uri));
        Assert.Equal("acme", clients.Blobs.AccountName);
    }

    [Fact]
    public void Create_AccountNameOnly_UsesThePublicEndpointsAndTheAppCredential()
    {
        var asked = 0;
        using var clients = AzureStorageClients.Create(new StorageOptions { AccountName = "prodacct" }, () =>
        {
            asked++;
            return new RecordingCredential();
        }, NullLogger.Instance);

        Assert.Equal(1, asked);
        Assert.Equal(
            ("https://prodacct.blob.core.windows.net", "https://prodacct.queue.core.windows.net", "https://prodacct.table.core.windows.net"),
            (Trimmed(clients.Blobs.Uri), Trimmed(clients.Queues.Uri), Trimmed(clients.Tables.Uri)));
    }

    [Fact]
    public void Create_AccountNameWithServiceUris_UsesThem()
    {
        using var clients = Create(new StorageOptions { AccountName = "prodacct", QueueServiceUri = "https://queues.example.test/" }, new RecordingCredential());

        Assert.Equal("https://queues.example.test", Trimmed(clients.Queues.Uri));
        Assert.Equal("https://prodacct.blob.core.windows.net", Trimmed(clients.Blobs.Uri));
    }

    [Fact]
    public void Create_NeitherConnectionStringNorAccount_ThrowsNamingBothSettings()
    {
        var error = Assert.Throws<FormatException>(() => Create(new StorageOptions()));

        Assert.Contains("Storage:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("Storage:AccountName", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("just text")]
    [InlineData("AccountName=acme;AccountKey=not base64!")]
    [InlineData("AccountName=acme;c2VjcmV0LWtleS1tYXRlcmlhbA")]
    public void Create_UnusableConnectionString_ThrowsNamingTheSettingButNotTheSecret(string connectionString)
    {
        var error = Assert.Throws<FormatException>(() => Create(new StorageOptions { ConnectionString = connectionString }));

        Assert.StartsWith("Storage:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LWtleS1tYXRlcmlhbA", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_ServiceUriThatIsNotHttp_Throws()
    {
        Assert.Throws<FormatException>(() => Create(new StorageOptions { AccountName = "prodacct", BlobServiceUri = "ftp://blobs.example.test" }, new RecordingCredential()));
    }

    [Fact]
    public async Task AccountName_EveryAdapter_AuthenticatesWithTheAppCredentialForStorage()
    {
        // Nothing listens there: the token is asked for before a request leaves, which is all this needs to see.
        var endpoint = $"https://127.0.0.1:{TestProcesses.FreeLoopbackPort()}/prodacct";
        var credential = new RecordingCredential();
        await using var services = Build(credential, new Dictionary<string, string?>
        {
            ["Storage:AccountName"] = "prodacct",
            ["Storage:BlobServiceUri"] = endpoint,
            ["Storage:QueueServiceUri"] = endpoint,
            ["Storage:TableServiceUri"] = endpoint,
            ["Storage:MaxRetries"] = "0",
        });

        await Assert.ThrowsAsync<RequestFailedException>(() => services.GetRequiredService<IEntityStore>().GetAsync("anytable", "p", "r", CancellationToken.None));
        await Assert.ThrowsAsync<RequestFailedException>(() => services.GetRequiredService<IWorkQueue>().GetApproximateCountAsync("anyqueue", CancellationToken.None));
        await Assert.ThrowsAsync<RequestFailedException>(() => services.GetRequiredService<IBlobStore>().GetInfoAsync("anycontainer", "b", CancellationToken.None));

        Assert.True(credential.Scopes.Count >= 3, $"The credential was asked {credential.Scopes.Count} times.");
        Assert.All(credential.Scopes, scope => Assert.Equal(StorageScope, scope));
    }

    [Fact]
    public async Task ConnectionString_EveryAdapter_SignsWithTheKeyAndNeverAsksTheCredential()
    {
        var azurite = await Azurite.SharedAsync();
        var credential = new RecordingCredential();
        await using var services = Build(credential, new Dictionary<string, string?> { ["Storage:ConnectionString"] = azurite.ConnectionString });

        await services.GetRequiredService<IEntityStore>().PingAsync(CancellationToken.None);
        Assert.Equal(0, await services.GetRequiredService<IWorkQueue>().GetApproximateCountAsync("anyqueue", CancellationToken.None));
        Assert.Null(await services.GetRequiredService<IBlobStore>().GetInfoAsync("anycontainer", "b", CancellationToken.None));

        Assert.Empty(credential.Scopes);
    }

    [Fact]
    public async Task ConnectionString_WrongAccountKey_IsRefusedByTheService()
    {
        var azurite = await Azurite.SharedAsync();
        var wrongKey = azurite.ConnectionString.Replace(Azurite.AccountKey, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal);
        await using var services = Build(new RecordingCredential(), new Dictionary<string, string?> { ["Storage:ConnectionString"] = wrongKey });

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => services.GetRequiredService<IEntityStore>().GetAsync("anytable", "p", "r", CancellationToken.None));

        Assert.Equal(403, error.Status);
    }

    private static AzureStorageClients Create(StorageOptions options, TokenCredential? credential = null) =>
        AzureStorageClients.Create(options, () => credential ?? throw new InvalidOperationException("A connection string needs no credential."), NullLogger.Instance);

    private static ServiceProvider Build(TokenCredential credential, Dictionary<string, string?> settings)
    {
        settings["Storage:Provider"] = StorageSetup.AzureStorageProvider;
        var services = new ServiceCollection().AddLogging();
        // Registered first, so the app's own DefaultAzureCredential is not.
        services.AddSingleton(credential);
        services.AddStorage(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static string Trimmed(Uri uri) => uri.ToString().TrimEnd('/');

    /// <summary>Hands out a token that lives an hour and records the scopes asked for.</summary>
    private sealed class RecordingCredential : TokenCredential
    {
        public ConcurrentQueue<string> Scopes { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var scope in requestContext.Scopes)
            {
                Scopes.Enqueue(scope);
            }

            return ValueTask.FromResult(new AccessToken("storage-token", DateTimeOffset.UtcNow.AddHours(1)));
        }
    }
}
