using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// One more certificate the operator providers' connection pool accepts besides those the system trusts. The app
/// registers none; tests do, to serve the keyless Azure OpenAI provider over TLS (the SDK sends a bearer token only
/// over https) with a certificate of their own.
/// </summary>
internal sealed record TrustedUpstreamCertificate(X509Certificate2 Certificate);

/// <summary>The SDK clients of one provider; thread-safe, built once per provider version.</summary>
internal sealed record UpstreamClient(ChatClient Chat, EmbeddingClient Embeddings, OpenAIModelClient Models, HttpClient Native);

/// <summary>
/// Builds and caches the OpenAI SDK clients per provider. Two connection pools: operator providers are trusted;
/// workspace providers go through <see cref="EndpointGuard"/> on every connection. The SDK's own retries are off:
/// the gateway retries and falls back itself, because only it knows the other providers of a model.
/// </summary>
internal sealed class UpstreamClients : IDisposable
{
    private readonly ConcurrentDictionary<string, UpstreamClient> _clients = new(StringComparer.Ordinal);
    private readonly HttpClient _trusted;
    private readonly HttpClient _guarded;
    private readonly TimeSpan _networkTimeout;
    private readonly TokenCredential _credential;
    private readonly ILogger<UpstreamClients> _logger;

    public UpstreamClients(
        EndpointGuard guard, IOptions<ModelsOptions> options, TokenCredential credential, ILogger<UpstreamClients> logger, TrustedUpstreamCertificate? extraTrust = null)
    {
        _credential = credential;
        _logger = logger;
        _networkTimeout = TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds);
        var trusted = NewHandler(null);
        if (extraTrust is not null)
        {
            var thumbprint = extraTrust.Certificate.Thumbprint;
            // Only the chain may fail, and only for exactly that certificate: a name mismatch is still refused.
            trusted.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None
                || (errors == SslPolicyErrors.RemoteCertificateChainErrors && string.Equals(certificate?.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase));
        }

        _trusted = new HttpClient(trusted, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        _guarded = new HttpClient(NewHandler(guard), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public UpstreamClient For(ProviderDefinition provider)
    {
        var key = $"{provider.Source}|{provider.WorkspaceId}|{provider.Name}|{provider.Version}";
        return _clients.GetOrAdd(key, _ => Create(provider));
    }

    /// <summary>Forgets the clients of a provider that was changed or deleted.</summary>
    public void Forget(string workspaceId, string providerName)
    {
        var prefix = $"{ProviderSource.Workspace}|{workspaceId}|{providerName}|";
        foreach (var key in _clients.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
        {
            _clients.TryRemove(key, out _);
        }
    }

    public void Dispose()
    {
        _trusted.Dispose();
        _guarded.Dispose();
    }

    private UpstreamClient Create(ProviderDefinition provider)
    {
        var http = provider.Source == ProviderSource.Platform ? _trusted : _guarded;
        var options = new OpenAIClientOptions
        {
            Endpoint = provider.OpenAiEndpoint,
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = _networkTimeout,
            // The gateway logs and records calls itself, never with keys or prompts; the SDK's own per-message logging
            // and tracing would be a second, per-call cost on the hot path.
            ClientLoggingOptions = new ClientLoggingOptions { EnableLogging = false, EnableMessageLogging = false, EnableMessageContentLogging = false },
            EnableDistributedTracing = false,
        };
        AuthenticationPolicy auth = provider.ApiKey is null
            // Only the operator's own Azure OpenAI gets the app identity's token: a workspace's URL never receives it.
            ? provider.Kind == ProviderKinds.AzureOpenAi && provider.Source == ProviderSource.Platform
                ? new EntraAuthentication(_credential, provider.Name, _logger)
                : new NoAuthentication()
            : provider.Kind == ProviderKinds.AzureOpenAi
                ? ApiKeyAuthenticationPolicy.CreateHeaderApiKeyPolicy(new ApiKeyCredential(provider.ApiKey), "api-key")
                : ApiKeyAuthenticationPolicy.CreateBearerAuthorizationPolicy(new ApiKeyCredential(provider.ApiKey));
#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is the SDK's only way to send Azure's api-key header, an Entra token, or no credential at all to a keyless local server.
        var client = new OpenAIClient(auth, options);
#pragma warning restore OPENAI001
        // The model name given here is never sent: the gateway uses the protocol methods, whose body names the model.
        return new UpstreamClient(client.GetChatClient("gateway"), client.GetEmbeddingClient("gateway"), client.GetOpenAIModelClient(), http);
    }

    private static SocketsHttpHandler NewHandler(EndpointGuard? guard)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = System.Net.DecompressionMethods.All,
            // No DiagnosticsHandler in the chain: it started a client Activity per call and wrote our trace ids into
            // the provider's request (a third party has no use for them), a measurable share of a call's CPU when the
            // upstream is fast. The gateway records every call in its usage rows instead.
            ActivityHeadersPropagator = null,
        };
        if (guard is not null)
        {
            // A proxy would make the guard check the proxy's address instead of the provider's.
            handler.UseProxy = false;
            handler.ConnectCallback = guard.ConnectAsync;
        }

        return handler;
    }

    /// <summary>Keyless providers (a local Ollama) get no Authorization header at all.</summary>
    private sealed class NoAuthentication : AuthenticationPolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNext(message, pipeline, currentIndex);

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNextAsync(message, pipeline, currentIndex);
    }

    /// <summary>
    /// Keyless Azure OpenAI: the SDK's <see cref="BearerTokenPolicy"/> puts a token of the app's identity (Cognitive
    /// Services OpenAI User) on every attempt; the credential caches and renews it. Wrapped only so that an identity
    /// that cannot sign in makes the provider unreachable (502, fallback) like any failed upstream, not the request a 500.
    /// </summary>
    private sealed class EntraAuthentication(TokenCredential credential, string provider, ILogger logger) : AuthenticationPolicy
    {
        public const string Scope = "https://cognitiveservices.azure.com/.default";

        private readonly BearerTokenPolicy _bearer = new(credential, Scope);

        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            try
            {
                _bearer.Process(message, pipeline, currentIndex);
            }
            catch (AuthenticationFailedException exception)
            {
                throw Unreachable(exception);
            }
        }

        public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            try
            {
                await _bearer.ProcessAsync(message, pipeline, currentIndex);
            }
            catch (AuthenticationFailedException exception)
            {
                throw Unreachable(exception);
            }
        }

        // Only the credential throws this type, so the rest of the pipeline (which runs inside the same call) is unaffected.
        private ClientResultException Unreachable(AuthenticationFailedException exception)
        {
            ModelGatewayLog.EntraTokenFailed(logger, exception, provider);
            return new ClientResultException($"No Microsoft Entra token for the provider '{provider}'.", innerException: exception);
        }
    }
}
