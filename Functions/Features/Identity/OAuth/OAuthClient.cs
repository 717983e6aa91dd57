using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Serverless.Functions.Features.Identity.OAuth;

/// <summary>Who the provider says signed in; <paramref name="EmailVerified"/> only when the provider vouches for it.</summary>
internal sealed record ExternalProfile(string Subject, string? Email, bool EmailVerified, string? Name);

/// <summary>A provider step that failed; <paramref name="Code"/> is what the frontend gets as <c>?error=</c>.</summary>
internal sealed class OAuthFailure(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// The protocol side of sign-in: the authorize URL, the code exchange (PKCE, client secret in the body) and the
/// identity: GitHub's REST API, or an id_token checked against the issuer's discovery document and JWKS.
/// </summary>
internal sealed class OAuthClient(IOptions<OAuthOptions> options, TimeProvider time) : IDisposable
{
    private const string GitHubAuthorize = "https://github.com/login/oauth/authorize";
    private const string GitHubToken = "https://github.com/login/oauth/access_token";
    private const string GitHubApi = "https://api.github.com";
    private const string GoogleAuthority = "https://accounts.google.com";
    private const string MicrosoftAuthority = "https://login.microsoftonline.com/common/v2.0";

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(15),
    };

    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _discovery = new(StringComparer.Ordinal);

    public async Task<string> AuthorizeUrlAsync(OAuthProviderSettings provider, string callback, string state, string codeChallenge, string nonce, CancellationToken cancellationToken)
    {
        var endpoint = provider.AuthorizationEndpoint is { Length: > 0 } configured ? configured
            : provider.Kind == OAuthKinds.GitHub ? GitHubAuthorize
            : (await DiscoverAsync(provider, cancellationToken)).AuthorizationEndpoint;
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = provider.ClientId,
            ["redirect_uri"] = callback,
            ["scope"] = ScopesOf(provider),
            ["state"] = state,
            ["code_challenge"] = codeChallenge,
            ["code_challenge_method"] = "S256",
        };
        if (OAuthKinds.UsesOpenIdConnect(provider.Kind))
        {
            query["nonce"] = nonce;
        }

        return QueryHelpers.AddQueryString(endpoint, query);
    }

    public async Task<ExternalProfile> SignInAsync(OAuthProviderSettings provider, string code, string callback, string codeVerifier, string nonce, CancellationToken cancellationToken)
    {
        var oidc = OAuthKinds.UsesOpenIdConnect(provider.Kind) ? await DiscoverAsync(provider, cancellationToken) : null;
        var tokenEndpoint = provider.TokenEndpoint is { Length: > 0 } configured ? configured : oidc?.TokenEndpoint ?? GitHubToken;
        using var tokens = await ExchangeAsync(provider, tokenEndpoint, code, callback, codeVerifier, cancellationToken);
        var accessToken = Text(tokens.RootElement, "access_token") ?? throw new OAuthFailure("token_exchange_failed", "The token endpoint returned no access token.");
        return oidc is null
            ? await GitHubProfileAsync(provider, accessToken, cancellationToken)
            : await OpenIdProfileAsync(provider, oidc, Text(tokens.RootElement, "id_token"), accessToken, nonce, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    private static string ScopesOf(OAuthProviderSettings provider) =>
        provider.Scopes is { Length: > 0 } scopes ? scopes
        : provider.Kind == OAuthKinds.GitHub ? "read:user user:email"
        : "openid email profile";

    private async Task<JsonDocument> ExchangeAsync(OAuthProviderSettings provider, string tokenEndpoint, string code, string callback, string codeVerifier, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = callback,
                ["client_id"] = provider.ClientId,
                ["client_secret"] = provider.ClientSecret,
                ["code_verifier"] = codeVerifier,
            }),
        };
        // GitHub answers form-encoded unless asked for JSON.
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var document = await SendAsync(request, "token_exchange_failed", cancellationToken);
        if (Text(document.RootElement, "error") is { } error)
        {
            document.Dispose();
            throw new OAuthFailure("token_exchange_failed", $"The token endpoint refused the code: {error}.");
        }

        return document;
    }

    private async Task<ExternalProfile> GitHubProfileAsync(OAuthProviderSettings provider, string accessToken, CancellationToken cancellationToken)
    {
        var api = (provider.ApiBaseUrl is { Length: > 0 } configured ? configured : GitHubApi).TrimEnd('/');
        using var user = await GetJsonAsync($"{api}/user", accessToken, cancellationToken);
        var id = user.RootElement.TryGetProperty("id", out var idValue) && idValue.ValueKind == JsonValueKind.Number
            ? idValue.GetRawText()
            : throw new OAuthFailure("userinfo_failed", "GitHub returned no user id.");
        var name = Text(user.RootElement, "name") ?? Text(user.RootElement, "login");

        // The profile's public email says nothing about verification; only /user/emails does.
        using var emails = await GetJsonAsync($"{api}/user/emails", accessToken, cancellationToken);
        var primary = emails.RootElement.ValueKind == JsonValueKind.Array
            ? emails.RootElement.EnumerateArray().FirstOrDefault(e => e.TryGetProperty("primary", out var p) && p.ValueKind == JsonValueKind.True)
            : default;
        if (primary.ValueKind == JsonValueKind.Object)
        {
            return new ExternalProfile(id, Text(primary, "email"), primary.TryGetProperty("verified", out var v) && v.ValueKind == JsonValueKind.True, name);
        }

        return new ExternalProfile(id, Text(user.RootElement, "email"), false, name);
    }

    private async Task<ExternalProfile> OpenIdProfileAsync(
        OAuthProviderSettings provider, OpenIdConnectConfiguration configuration, string? idToken, string accessToken, string nonce, CancellationToken cancellationToken)
    {
        if (idToken is null)
        {
            throw new OAuthFailure("invalid_id_token", "The token endpoint returned no id_token.");
        }

        var result = await ValidateIdTokenAsync(provider, configuration, idToken);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && _discovery.TryGetValue(provider.Name, out var manager))
        {
            // The issuer may have rotated its keys since discovery was cached.
            manager.RequestRefresh();
            result = await ValidateIdTokenAsync(provider, await manager.GetConfigurationAsync(cancellationToken), idToken);
        }

        if (!result.IsValid)
        {
            throw new OAuthFailure("invalid_id_token", "The id_token is not valid: " + result.Exception?.GetType().Name);
        }

        var claims = result.Claims;
        if (Claim(claims, "nonce") != nonce)
        {
            throw new OAuthFailure("invalid_id_token", "The id_token's nonce is not the one this sign-in sent.");
        }

        var subject = Claim(claims, "sub") ?? throw new OAuthFailure("invalid_id_token", "The id_token has no subject.");
        var profile = new ExternalProfile(subject, Claim(claims, "email"), IsTrue(claims, "email_verified"), Claim(claims, "name"));
        var userInfo = provider.UserInfoEndpoint is { Length: > 0 } configured ? configured : configuration.UserInfoEndpoint;
        if (profile.Email is not null || string.IsNullOrEmpty(userInfo))
        {
            return profile;
        }

        using var info = await GetJsonAsync(userInfo, accessToken, cancellationToken);
        if (Text(info.RootElement, "sub") != subject)
        {
            throw new OAuthFailure("userinfo_failed", "The userinfo subject is not the id_token's.");
        }

        var verified = info.RootElement.TryGetProperty("email_verified", out var v) && (v.ValueKind == JsonValueKind.True || v.ValueKind == JsonValueKind.String && v.GetString() == "true");
        return profile with { Email = Text(info.RootElement, "email"), EmailVerified = verified, Name = profile.Name ?? Text(info.RootElement, "name") };
    }

    private Task<TokenValidationResult> ValidateIdTokenAsync(OAuthProviderSettings provider, OpenIdConnectConfiguration configuration, string idToken) =>
        new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = provider.ClientId,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromMinutes(2),
            // The platform's clock, not the machine's: the same clock that expires our own tokens and sign-in states.
            LifetimeValidator = (notBefore, expires, _, parameters) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return (notBefore is null || notBefore.Value - parameters.ClockSkew <= now) && expires is { } end && now < end + parameters.ClockSkew;
            },
            // Microsoft's multi-tenant discovery names the issuer with a {tenantid} placeholder: each token carries its tenant.
            IssuerValidator = configuration.Issuer.Contains("{tenantid}", StringComparison.Ordinal) ? TenantIssuer(configuration.Issuer) : null,
        });

    private static IssuerValidator TenantIssuer(string template) => (issuer, token, _) =>
        token is JsonWebToken jwt && jwt.TryGetPayloadValue<string>("tid", out var tenant) && !string.IsNullOrEmpty(tenant)
            && string.Equals(issuer, template.Replace("{tenantid}", tenant, StringComparison.Ordinal), StringComparison.Ordinal)
            ? issuer
            : throw new SecurityTokenInvalidIssuerException("The issuer is not the tenant's.");

    private async Task<OpenIdConnectConfiguration> DiscoverAsync(OAuthProviderSettings provider, CancellationToken cancellationToken)
    {
        var manager = _discovery.GetOrAdd(provider.Name, _ =>
        {
            var authority = provider.Authority is { Length: > 0 } configured ? configured
                : provider.Kind == OAuthKinds.Google ? GoogleAuthority : MicrosoftAuthority;
            return new ConfigurationManager<OpenIdConnectConfiguration>(
                authority.TrimEnd('/') + "/.well-known/openid-configuration",
                new OpenIdConnectConfigurationRetriever(),
                new HttpDocumentRetriever(_http) { RequireHttps = !options.Value.AllowHttpLoopback });
        });
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await manager.GetConfigurationAsync(cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new OAuthFailure("provider_unavailable", "The provider's discovery document could not be read: " + e.Message);
        }

        // The document names the endpoints the code and the tokens travel to: they are held to the settings' rule.
        if (!options.Value.IsAllowedEndpoint(configuration.AuthorizationEndpoint) || !options.Value.IsAllowedEndpoint(configuration.TokenEndpoint)
            || !string.IsNullOrEmpty(configuration.UserInfoEndpoint) && !options.Value.IsAllowedEndpoint(configuration.UserInfoEndpoint))
        {
            throw new OAuthFailure("provider_unavailable", "The provider's discovery document names an endpoint that is not https.");
        }

        return configuration;
    }

    private async Task<JsonDocument> GetJsonAsync(string url, string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        // GitHub's API refuses requests without a User-Agent.
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("serverless-platform", "1.0"));
        return await SendAsync(request, "userinfo_failed", cancellationToken);
    }

    private async Task<JsonDocument> SendAsync(HttpRequestMessage request, string failure, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new OAuthFailure(failure, $"{request.RequestUri} answered {(int)response.StatusCode}.");
            }

            return JsonDocument.Parse(body);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new OAuthFailure(failure, $"{request.RequestUri} could not be read: {e.GetType().Name}.");
        }
    }

    private static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Claim(IDictionary<string, object> claims, string name) =>
        claims.TryGetValue(name, out var value) ? value?.ToString() : null;

    private static bool IsTrue(IDictionary<string, object> claims, string name) =>
        claims.TryGetValue(name, out var value) && (value is true || value is string s && s == "true");
}
