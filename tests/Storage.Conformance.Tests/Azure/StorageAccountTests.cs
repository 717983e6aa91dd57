using Serverless.Functions.Platform.Storage;
using Serverless.Functions.Platform.Storage.AzureStorage;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class StorageAccountTests
{
    [Fact]
    public void Parse_UseDevelopmentStorage_PointsAtAzuriteDefaultsWithTheWellKnownKey()
    {
        var account = StorageAccount.Parse("UseDevelopmentStorage=true");

        Assert.Equal("devstoreaccount1", account.Name);
        Assert.Equal(
            ("http://127.0.0.1:10000/devstoreaccount1", "http://127.0.0.1:10001/devstoreaccount1", "http://127.0.0.1:10002/devstoreaccount1"),
            (account.BlobEndpoint.ToString().TrimEnd('/'), account.QueueEndpoint.ToString().TrimEnd('/'), account.TableEndpoint.ToString().TrimEnd('/')));
        Assert.Equal(Convert.FromBase64String(StorageAccount.DevelopmentAccountKey), account.SharedKey);
    }

    [Fact]
    public void Parse_AccountKeyString_DerivesEndpointsFromProtocolAndSuffix()
    {
        var account = StorageAccount.Parse("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal("acme", account.Name);
        Assert.Equal(new Uri("https://acme.queue.core.chinacloudapi.cn"), account.QueueEndpoint);
        Assert.Equal("key"u8.ToArray(), account.SharedKey);
    }

    [Fact]
    public void Parse_ExplicitEndpoints_OverrideTheDerivedOnes()
    {
        var account = StorageAccount.Parse("AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:4321/devstoreaccount1/");

        Assert.Equal(new Uri("http://127.0.0.1:4321/devstoreaccount1"), account.TableEndpoint);
        Assert.Equal(new Uri("https://devstoreaccount1.blob.core.windows.net"), account.BlobEndpoint);
    }

    [Theory]
    [InlineData("AccountKey=a2V5")]
    [InlineData("AccountName=acme;AccountKey=not base64!")]
    [InlineData("AccountName=acme;SharedAccessSignature=sv=2020")]
    [InlineData("AccountName=acme;AccountKey=a2V5;BlobEndpoint=ftp://acme")]
    [InlineData("just text")]
    public void Parse_UnusableConnectionString_ThrowsFormatException(string connectionString)
    {
        Assert.Throws<FormatException>(() => StorageAccount.Parse(connectionString));
    }

    [Fact]
    public void Parse_MalformedPart_DoesNotEchoSecretsIntoTheMessage()
    {
        var error = Assert.Throws<FormatException>(() => StorageAccount.Parse("AccountName=acme;c2VjcmV0LWtleS1tYXRlcmlhbA"));

        Assert.DoesNotContain("c2VjcmV0LWtleS1tYXRlcmlhbA", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromOptions_AccountNameOnly_UsesPublicEndpointsAndNoKey()
    {
        var account = StorageAccount.FromOptions(new StorageOptions { AccountName = "prodacct" });

        Assert.Null(account.SharedKey);
        Assert.Equal(new Uri("https://prodacct.blob.core.windows.net"), account.BlobEndpoint);
        Assert.Equal(new Uri("https://prodacct.table.core.windows.net"), account.TableEndpoint);
    }

    [Fact]
    public void FromOptions_AccountNameWithServiceUris_UsesThem()
    {
        var account = StorageAccount.FromOptions(new StorageOptions
        {
            AccountName = "prodacct",
            QueueServiceUri = "https://queues.example.test/",
        });

        Assert.Equal(new Uri("https://queues.example.test"), account.QueueEndpoint);
    }

    [Fact]
    public void FromOptions_NeitherConnectionStringNorAccount_ThrowsNamingBothSettings()
    {
        var error = Assert.Throws<FormatException>(() => StorageAccount.FromOptions(new StorageOptions()));

        Assert.Contains("Storage:ConnectionString", error.Message, StringComparison.Ordinal);
        Assert.Contains("Storage:AccountName", error.Message, StringComparison.Ordinal);
    }
}
