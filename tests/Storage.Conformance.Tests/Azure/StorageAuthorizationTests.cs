using System.Net;
using Azure.Core;
using Serverless.Functions.Platform;
using Serverless.Functions.Platform.Storage.AzureStorage;
using Serverless.Orchestrations.Ports;
using Serverless.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Storage.Conformance.Tests.Azure;

public sealed class StorageAuthorizationTests
{
    [Fact]
    public void SharedKey_PathStyleEndpoint_SignsTheAccountTwiceInTheResource()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:10000/devstoreaccount1/box/a%20b.txt?comp=list&restype=container");
        request.Headers.TryAddWithoutValidation("x-ms-version", StoragePipeline.ApiVersion);
        request.Headers.TryAddWithoutValidation("x-ms-date", "Sun, 01 Nov 2026 00:00:00 GMT");

        var blob = SharedKeyAuthorizer.StringToSign(request, StorageService.Blob, "devstoreaccount1");
        var table = SharedKeyAuthorizer.StringToSign(request, StorageService.Table, "devstoreaccount1");

        Assert.EndsWith(
            "x-ms-date:Sun, 01 Nov 2026 00:00:00 GMT\nx-ms-version:" + StoragePipeline.ApiVersion + "\n/devstoreaccount1/devstoreaccount1/box/a%20b.txt\ncomp:list\nrestype:container",
            blob,
            StringComparison.Ordinal);
        Assert.Equal("GET\n\n\nSun, 01 Nov 2026 00:00:00 GMT\n/devstoreaccount1/devstoreaccount1/box/a%20b.txt?comp=list", table);
    }

    [Fact]
    public async Task SharedKey_WrongAccountKey_IsRefusedByTheService()
    {
        var azurite = await Azurite.SharedAsync();
        var wrongKey = azurite.ConnectionString.Replace(Azurite.AccountKey, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal);
        var services = new ServiceCollection().AddLogging();
        Serverless.Functions.Platform.Storage.StorageSetup.AddStorage(services, AzuriteStorage.Configuration(wrongKey));
        await using var provider = services.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<StorageRequestException>(() => provider.GetRequiredService<IEntityStore>().GetAsync("anytable", "p", "r", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
    }

    [Theory]
    [InlineData(60, "Bearer token-1")]
    [InlineData(2, "Bearer token-2")]
    public async Task Token_SecondRequest_ReusesTheTokenUnlessItExpiresWithinFiveMinutes(int lifetimeMinutes, string secondAuthorization)
    {
        var credential = new CountingCredential(TimeSpan.FromMinutes(lifetimeMinutes));
        var authorizer = new TokenAuthorizer(new EntraTokenCache(credential, TimeProvider.System));

        using var first = new HttpRequestMessage(HttpMethod.Get, "https://acct.blob.core.windows.net/c/b");
        using var second = new HttpRequestMessage(HttpMethod.Get, "https://acct.table.core.windows.net/t");
        await authorizer.AuthorizeAsync(first, StorageService.Blob, CancellationToken.None);
        await authorizer.AuthorizeAsync(second, StorageService.Table, CancellationToken.None);

        Assert.Equal("Bearer token-1", first.Headers.Authorization?.ToString());
        Assert.Equal(secondAuthorization, second.Headers.Authorization?.ToString());
        Assert.All(credential.Scopes, scope => Assert.Equal("https://storage.azure.com/.default", scope));
    }

    /// <summary>Hands out numbered tokens that live for <paramref name="lifetime"/>, and records the scopes asked for.</summary>
    private sealed class CountingCredential(TimeSpan lifetime) : TokenCredential
    {
        private int _issued;

        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The storage pipeline asks asynchronously.");

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            return ValueTask.FromResult(new AccessToken($"token-{++_issued}", DateTimeOffset.UtcNow + lifetime));
        }
    }
}
