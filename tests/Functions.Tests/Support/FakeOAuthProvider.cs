using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Serverless.Functions.Tests.Support;

/// <summary>A person at the provider.</summary>
public sealed record FakeAccount(string Subject, string Email, bool EmailVerified, string Name = "Fake Person");

/// <summary>How the fake OpenID provider spoils the id_token of a grant, to check that the app refuses it.</summary>
public enum IdTokenFault
{
    None,
    SignedByAnotherKey,
    WrongAudience,
    WrongNonce,
    IssuerOfAnotherTenant,
    Expired,
}

/// <summary>
/// One loopback server playing both a GitHub (<c>/login/oauth/access_token</c>, <c>/user</c>, <c>/user/emails</c>) and an
/// OpenID issuer (discovery, JWKS, <c>/token</c> issuing RS256 id_tokens). A test plays the browser: it reads the
/// authorize URL the app redirected to, <see cref="Approve"/>s a code for an account, and calls the app's callback.
/// The token endpoints check the client secret, the callback URL and the PKCE verifier against the challenge.
/// </summary>
public sealed class FakeOAuthProvider : IAsyncDisposable
{
    public const string ClientId = "test-client";
    public const string ClientSecret = "test-secret";

    private sealed record Grant(string CodeChallenge, string RedirectUri, string? Nonce, FakeAccount Account, IdTokenFault Fault, string? Tenant);

    private readonly ConcurrentDictionary<string, Grant> _grants = new();
    private readonly ConcurrentDictionary<string, FakeAccount> _accessTokens = new();
    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "fake-key-1" };
    private readonly RsaSecurityKey _otherKey = new(RSA.Create(2048)) { KeyId = "fake-key-1" };
    private WebApplication _app = null!;

    public string BaseUrl { get; private set; } = "";

    /// <summary>The clock id_tokens are issued on: the app's, so a test that moves the app's clock moves the provider's too.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public static async Task<FakeOAuthProvider> StartAsync()
    {
        var fake = new FakeOAuthProvider();
        (fake._app, fake.BaseUrl) = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/login/oauth/access_token", (HttpRequest request) => fake.TokenAsync(request, openId: false));
            app.MapPost("/token", (HttpRequest request) => fake.TokenAsync(request, openId: true));
            app.MapGet("/user", (HttpRequest request) => fake.Account(request) is { } a
                ? Results.Json(new { id = long.Parse(a.Subject, System.Globalization.CultureInfo.InvariantCulture), login = "octo" + a.Subject, name = a.Name, email = (string?)null })
                : Results.Unauthorized());
            app.MapGet("/user/emails", (HttpRequest request) => fake.Account(request) is { } a
                ? Results.Json(new object[] { new { email = "other-" + a.Email, primary = false, verified = true }, new { email = a.Email, primary = true, verified = a.EmailVerified } })
                : Results.Unauthorized());
            app.MapGet("/.well-known/openid-configuration", () => fake.Discovery(fake.BaseUrl));
            // Like Microsoft's multi-tenant authority: the issuer is a template, each token names its tenant.
            app.MapGet("/common/.well-known/openid-configuration", () => fake.Discovery(fake.BaseUrl + "/{tenantid}/v2.0"));
            app.MapGet("/jwks", () => Results.Json(new { keys = new[] { fake.Jwk() } }));
        });
        return fake;
    }

    private IResult Discovery(string issuer) => Results.Json(new Dictionary<string, object>
            {
                ["issuer"] = issuer,
                ["authorization_endpoint"] = BaseUrl + "/authorize",
                ["token_endpoint"] = BaseUrl + "/token",
                ["jwks_uri"] = BaseUrl + "/jwks",
                ["response_types_supported"] = new[] { "code" },
                ["subject_types_supported"] = new[] { "public" },
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            });

    /// <summary>The user approves at the provider: <paramref name="authorizeUrl"/> is where the app sent the browser. Returns the code.</summary>
    /// <param name="tenant">For the multi-tenant issuer: the tenant whose issuer and <c>tid</c> the id_token carries.</param>
    public string Approve(Uri authorizeUrl, FakeAccount account, IdTokenFault fault = IdTokenFault.None, string? tenant = null)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorizeUrl.Query);
        var code = "code-" + Guid.NewGuid().ToString("N");
        _grants[code] = new Grant(query["code_challenge"].ToString(), query["redirect_uri"].ToString(),
            query.TryGetValue("nonce", out var nonce) ? nonce.ToString() : null, account, fault, tenant);
        return code;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task<IResult> TokenAsync(HttpRequest request, bool openId)
    {
        var form = await request.ReadFormAsync();
        if (!_grants.TryRemove(form["code"].ToString(), out var grant)
            || form["client_id"] != ClientId || form["client_secret"] != ClientSecret || form["redirect_uri"] != grant.RedirectUri
            || Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != grant.CodeChallenge)
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        }

        var accessToken = "at-" + Guid.NewGuid().ToString("N");
        _accessTokens[accessToken] = grant.Account;
        return openId
            ? Results.Json(new { access_token = accessToken, token_type = "Bearer", id_token = IdToken(grant) })
            : Results.Json(new { access_token = accessToken, token_type = "bearer", scope = "read:user,user:email" });
    }

    private string IdToken(Grant grant)
    {
        var now = (grant.Fault == IdTokenFault.Expired ? Clock.GetUtcNow().AddMinutes(-10) : Clock.GetUtcNow()).UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = grant.Account.Subject,
            ["email"] = grant.Account.Email,
            ["email_verified"] = grant.Account.EmailVerified,
            ["name"] = grant.Account.Name,
            ["nonce"] = grant.Fault == IdTokenFault.WrongNonce ? "not-the-nonce" : grant.Nonce ?? "",
        };
        if (grant.Tenant is not null)
        {
            claims["tid"] = grant.Tenant;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = grant.Tenant is null ? BaseUrl : $"{BaseUrl}/{(grant.Fault == IdTokenFault.IssuerOfAnotherTenant ? "another-tenant" : grant.Tenant)}/v2.0",
            Audience = grant.Fault == IdTokenFault.WrongAudience ? "someone-else" : ClientId,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            Claims = claims,
            SigningCredentials = new SigningCredentials(grant.Fault == IdTokenFault.SignedByAnotherKey ? _otherKey : _key, SecurityAlgorithms.RsaSha256),
        });
    }

    private FakeAccount? Account(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal)
            && _accessTokens.TryGetValue(header["Bearer ".Length..], out var account) ? account : null;

    private object Jwk()
    {
        var parameters = _key.Rsa.ExportParameters(false);
        return new { kty = "RSA", use = "sig", alg = "RS256", kid = _key.KeyId, n = Base64Url.EncodeToString(parameters.Modulus), e = Base64Url.EncodeToString(parameters.Exponent) };
    }
}
