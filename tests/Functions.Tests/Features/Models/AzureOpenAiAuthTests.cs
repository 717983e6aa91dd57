using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Models;

/// <summary>
/// The gateway fixture plus two operator providers of kind azure-openai: <c>azure-entra</c> (no key, on a server of
/// its own speaking TLS, as Azure OpenAI does: the SDK sends a bearer token only over https) authenticates with the
/// app identity's Entra token, <c>azure-keyed</c> (on the secondary) with its api-key.
/// </summary>
public sealed class AzureOpenAiGatewayFixture : GatewayFixture
{
    private readonly X509Certificate2 _certificate = TestCertificate.ForLoopback();

    public FakeTokenCredential Credential { get; } = new();

    /// <summary>The keyless provider's upstream, on https with a certificate the app is told to trust.</summary>
    public FakeModelServer Azure { get; private set; } = null!;

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Models:Providers:3:Name"] = "azure-entra",
        ["Models:Providers:3:Kind"] = "azure-openai",
        // The form the deployment sets: the account endpoint + openai/v1/.
        ["Models:Providers:3:BaseUrl"] = Azure.OpenAiBase + "/",
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

    public override async Task InitializeAsync()
    {
        Azure = await FakeModelServer.StartAsync(_certificate);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Azure.DisposeAsync();
        _certificate.Dispose();
    }

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.RemoveAll<TokenCredential>();
        services.AddSingleton<TokenCredential>(Credential);
        services.AddSingleton(new TrustedUpstreamCertificate(_certificate));
    }
}

/// <summary>Hands out <c>entra-token-N</c> valid for an hour and records the scopes asked for; can be told to fail.</summary>
public sealed class FakeTokenCredential : TokenCredential
{
    private int _issued;

    public ConcurrentQueue<string> Scopes { get; } = new();

    public int Issued => Volatile.Read(ref _issued);

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
        return ValueTask.FromResult(new AccessToken($"entra-token-{n}", DateTimeOffset.UtcNow.AddHours(1)));
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
        var sent = fixture.Azure.Received.Where(r => r.Body?["model"]?.ToString() is "entra-chat-deployment" or "entra-embed-deployment").ToList();
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
    public async Task KeylessAzureOpenAi_EveryCallCarriesTheTokenTheCredentialGivesThen()
    {
        // Caching and renewing tokens is the credential's business (DefaultAzureCredential keeps them until they
        // near expiry); the app keeps none of its own that could go stale.
        var (_, key) = await fixture.UserWithKeyAsync();
        await _client.ApiPostAsync("/v1/chat/completions", Chat("azure-chat"), key);

        var again = await _client.ApiPostAsync("/v1/chat/completions", Chat("azure-chat"), key);

        Assert.Equal(HttpStatusCode.OK, again.Status);
        var last = fixture.Azure.Received.Last(r => r.Body?["model"]?.ToString() == "entra-chat-deployment");
        Assert.Equal($"Bearer entra-token-{fixture.Credential.Issued}", last.Authorization);
    }

    [Fact]
    public async Task KeylessAzureOpenAi_IdentityThatCannotSignIn_Is502_AndTheNextCallRecovers()
    {
        var (_, key) = await fixture.UserWithKeyAsync();
        var chat = new { model = "azure-chat", messages = new[] { new { role = "user", content = "hi" } } };

        HttpStatusCode failed;
        fixture.Credential.Failing = true;
        try
        {
            failed = (await _client.ApiPostAsync("/v1/chat/completions", chat, key)).Status;
        }
        finally
        {
            fixture.Credential.Failing = false;
        }

        var recovered = await _client.ApiPostAsync("/v1/chat/completions", chat, key);

        Assert.Equal(HttpStatusCode.BadGateway, failed);
        Assert.Equal(HttpStatusCode.OK, recovered.Status);
        Assert.Equal($"Bearer entra-token-{fixture.Credential.Issued}", fixture.Azure.Received.Last(r => r.Body?["model"]?.ToString() == "entra-chat-deployment").Authorization);
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
    public async Task WorkspaceAzureOpenAiProviderWithoutAKey_NeverGetsTheAppIdentitysToken()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        var created = await _client.ApiPostAsync("/api/v1/providers", new
        {
            name = "workspace-azure",
            kind = "azure-openai",
            baseUrl = fixture.Secondary.OpenAiBase + "/",
            models = new[] { new { id = "workspace-azure-model", upstreamModel = "workspace-deployment" } },
        }, user.AccessToken);

        var response = await _client.ApiPostAsync("/v1/chat/completions", Chat("workspace-azure-model"), key);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var sent = fixture.Secondary.Received.Last(r => r.Body?["model"]?.ToString() == "workspace-deployment");
        Assert.Null(sent.Authorization);
        Assert.Null(sent.ApiKeyHeader);
    }

    [Fact]
    public async Task HealthProbes_AuthenticateLikeTheCalls()
    {
        var user = await _client.RegisterAsync();

        var health = await _client.ApiGetAsync("/api/v1/providers/health", user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Contains(fixture.Azure.Received, r => r.Path == "/v1/models" && r.Authorization?.StartsWith("Bearer entra-token-", StringComparison.Ordinal) == true && r.ApiKeyHeader is null);
        Assert.Contains(fixture.Secondary.Received, r => r.Path == "/v1/models" && r.ApiKeyHeader == "azure-key" && r.Authorization is null);
    }

    [Theory]
    [InlineData("http://models.example.test/openai/v1/", null, false)]
    [InlineData("https://models.example.test/openai/v1/", null, true)]
    [InlineData("http://models.example.test/openai/v1/", "a-key", true)]
    public void Settings_KeylessAzureOpenAi_MustUseHttps(string baseUrl, string? apiKey, bool valid)
    {
        var options = new ModelsOptions
        {
            Providers = [new ProviderSettings { Name = "azure", Kind = "azure-openai", BaseUrl = baseUrl, ApiKey = apiKey, Models = [new ModelSettings { Id = "m" }] }],
        };

        var result = new ModelsOptionsValidator().Validate(null, options);

        Assert.Equal(valid, result.Succeeded);
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
