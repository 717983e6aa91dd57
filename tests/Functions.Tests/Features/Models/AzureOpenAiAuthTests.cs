using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Models;

/// <summary>
/// The gateway fixture plus two operator providers of kind azure-openai: <c>azure-entra</c> (no key, on the primary
/// server) authenticates with the app identity's Entra token, <c>azure-keyed</c> (on the secondary) with its api-key.
/// </summary>
public class AzureOpenAiGatewayFixture : GatewayFixture
{
    public FakeTokenCredential Credential { get; } = new();

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Models:Providers:3:Name"] = "azure-entra",
        ["Models:Providers:3:Kind"] = "azure-openai",
        // The form the deployment sets: the account endpoint + openai/v1/.
        ["Models:Providers:3:BaseUrl"] = Primary.OpenAiBase + "/",
        ["Models:Providers:3:Models:0:Id"] = "azure-chat",
        ["Models:Providers:3:Models:0:UpstreamModel"] = "entra-chat-deployment",
        ["Models:Providers:3:Models:1:Id"] = "azure-embed",
        ["Models:Providers:3:Models:1:UpstreamModel"] = "entra-embed-deployment",
        ["Models:Providers:3:Models:1:Embedding"] = "true",
        ["Models:Providers:4:Name"] = "azure-keyed",
        ["Models:Providers:4:Kind"] = "azure-openai",
        ["Models:Providers:4:BaseUrl"] = Secondary.OpenAiBase + "/",
        ["Models:Providers:4:ApiKey"] = "azure-key",
        ["Models:Providers:4:Models:0:Id"] = "azure-keyed-chat",
        ["Models:Providers:4:Models:0:UpstreamModel"] = "keyed-deployment",
    };

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.RemoveAll<TokenCredential>();
        services.AddSingleton<TokenCredential>(Credential);
    }
}

/// <summary>Hands out <c>entra-token-N</c> valid for an hour and records the scopes asked for; can be told to fail.</summary>
public sealed class FakeTokenCredential : TokenCredential
{
    private int _issued;

    public ConcurrentQueue<string> Scopes { get; } = new();

    public int Issued => Volatile.Read(ref _issued);

    /// <summary>How long the next tokens live; under five minutes the gateway refreshes before every call.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Whether the identity cannot sign in (as a missing role assignment or identity would make it).</summary>
    public bool Failing { get; set; }

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (var scope in requestContext.Scopes)
        {
            Scopes.Enqueue(scope);
        }

        if (Failing)
        {
            throw new AuthenticationFailedException("The test identity cannot sign in.");
        }

        var n = Interlocked.Increment(ref _issued);
        return ValueTask.FromResult(new AccessToken($"entra-token-{n}", DateTimeOffset.UtcNow + Lifetime));
    }
}

public sealed class AzureOpenAiAuthTests(AzureOpenAiGatewayFixture fixture) : IClassFixture<AzureOpenAiGatewayFixture>
{
    private const string CognitiveServicesScope = "https://cognitiveservices.azure.com/.default";

    private readonly HttpClient _client = fixture.Client;

    private static object Chat(string model, bool stream = false) =>
        new { model, messages = new[] { new { role = "user", content = "hi" } }, stream };

    [Fact]
    public async Task KeylessAzureOpenAi_SendsTheEntraBearerToken_AndNoApiKey_OnChatStreamAndEmbeddings()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var chat = await _client.ApiPostAsync("/v1/chat/completions", Chat("azure-chat"), key);
        var embeddings = await _client.ApiPostAsync("/v1/embeddings", new { model = "azure-embed", input = "hello" }, key);
        await StreamAsync(key, Chat("azure-chat", stream: true));

        Assert.Equal(HttpStatusCode.OK, chat.Status);
        Assert.Equal(HttpStatusCode.OK, embeddings.Status);
        var sent = fixture.Primary.Received.Where(r => r.Body?["model"]?.ToString() is "entra-chat-deployment" or "entra-embed-deployment").ToList();
        Assert.Equal(3, sent.Count);
        Assert.Contains(sent, r => r.Path == "/v1/chat/completions" && r.Body?["stream"]?.GetValue<bool>() == true);
        Assert.Contains(sent, r => r.Path == "/v1/embeddings");
        Assert.All(sent, r =>
        {
            Assert.StartsWith("Bearer entra-token-", r.Authorization, StringComparison.Ordinal);
            Assert.Null(r.ApiKeyHeader);
        });
        Assert.All(fixture.Credential.Scopes, scope => Assert.Equal(CognitiveServicesScope, scope));
    }

    [Fact]
    public async Task KeylessAzureOpenAi_ReusesTheTokenUntilItNearsExpiry()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        await _client.ApiPostAsync("/v1/chat/completions", Chat("azure-chat"), key);
        var issued = fixture.Credential.Issued;

        var again = await _client.ApiPostAsync("/v1/chat/completions", Chat("azure-chat"), key);

        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(issued, fixture.Credential.Issued);
        var last = fixture.Primary.Received.Last(r => r.Body?["model"]?.ToString() == "entra-chat-deployment");
        Assert.Equal($"Bearer entra-token-{issued}", last.Authorization);
    }

    [Fact]
    public async Task KeyedAzureOpenAi_StillSendsTheApiKeyHeader_AndNoBearer()
    {
        var (_, key) = await fixture.UserWithKeyAsync();

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat("azure-keyed-chat"), key);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var sent = fixture.Secondary.Received.Last(r => r.Body?["model"]?.ToString() == "keyed-deployment");
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal("azure-key", sent.ApiKeyHeader);
        Assert.Null(sent.Authorization);
    }

    [Fact]
    public async Task HealthProbes_AuthenticateLikeTheCalls()
    {
        var user = await _client.RegisterAsync();

        var health = await _client.ApiGetAsync("/api/v1/providers/health", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Contains(fixture.Primary.Received, r => r.Path == "/v1/models" && r.Authorization?.StartsWith("Bearer entra-token-", StringComparison.Ordinal) == true && r.ApiKeyHeader is null);
        Assert.Contains(fixture.Secondary.Received, r => r.Path == "/v1/models" && r.ApiKeyHeader == "azure-key" && r.Authorization is null);
    }

    private async Task StreamAsync(string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsStringAsync();
    }
}

/// <summary>The same app, its identity's tokens living two minutes: the gateway fetches a fresh one for every call.</summary>
public sealed class ShortLivedTokenGatewayFixture : AzureOpenAiGatewayFixture
{
    public ShortLivedTokenGatewayFixture() => Credential.Lifetime = TimeSpan.FromMinutes(2);
}

/// <summary>A class of its own: a cached long-lived token from another test would hide the refresh.</summary>
public sealed class AzureOpenAiTokenRefreshTests(ShortLivedTokenGatewayFixture fixture) : IClassFixture<ShortLivedTokenGatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task TokenNearExpiry_IsRefreshed_AndAnIdentityThatCannotSignIn_Is502()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        var chat = new { model = "azure-chat", messages = new[] { new { role = "user", content = "hi" } } };
        var first = await _client.ApiPostAsync("/v1/chat/completions", chat, key);
        var issued = fixture.Credential.Issued;

        fixture.Credential.Failing = true;
        var failed = await _client.ApiPostAsync("/v1/chat/completions", chat, key);
        fixture.Credential.Failing = false;
        var recovered = await _client.ApiPostAsync("/v1/chat/completions", chat, key);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal(HttpStatusCode.OK, recovered.Status);
        Assert.Equal(issued + 1, fixture.Credential.Issued);
        Assert.Equal($"Bearer entra-token-{issued + 1}", fixture.Primary.Received.Last(r => r.Body?["model"]?.ToString() == "entra-chat-deployment").Authorization);
    }
}
