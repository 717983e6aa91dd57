using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Platform.Security;

/// <summary>
/// One scheme for both credentials: <c>Authorization: Bearer &lt;JWT or API key&gt;</c> (or the bare token) or <c>X-API-Key</c>.
/// It only establishes who calls; what they may do is access control's job.
/// </summary>
internal sealed class PlatformAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokens tokens,
    IApiKeyAuthenticator apiKeys,
    IUserStatus users)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Platform";
    public const string ApiKeyHeader = "X-API-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var credential = ReadCredential(Request);
        if (credential is null)
        {
            return AuthenticateResult.NoResult();
        }

        var caller = apiKeys.LooksLikeApiKey(credential)
            ? await apiKeys.AuthenticateAsync(credential, Context.RequestAborted)
            : await tokens.ValidateAsync(credential);
        if (caller is null)
        {
            return AuthenticateResult.Fail("The credential is invalid or expired.");
        }

        // Tokens already issued and keys already made stop working the moment their user is disabled (within the status cache).
        if (await users.IsDisabledAsync(caller.UserId, Context.RequestAborted))
        {
            Context.Features.Set(new DisabledAccount());
            return AuthenticateResult.Fail(DisabledAccount.Message);
        }

        Context.Features.Set(caller);
        return AuthenticateResult.Success(new AuthenticationTicket(ClaimsPrincipals.For(caller, SchemeName), SchemeName));
    }

    private static string? ReadCredential(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim() is { Length: > 0 } bearer ? bearer : null;
        }

        // Behflow's clients send the token bare (Authorization: <token>); one word without a scheme can only be that.
        if (authorization.Trim() is { Length: > 0 } raw && !raw.Contains(' ', StringComparison.Ordinal))
        {
            return raw;
        }

        if (request.Headers[ApiKeyHeader].ToString().Trim() is { Length: > 0 } key)
        {
            return key;
        }

        // Browsers cannot set headers on a WebSocket handshake, so WebSocket routes also take the token in the query.
        return request.HttpContext.GetEndpoint()?.Metadata.GetMetadata<WebSocketEndpoint>() is not null
            && request.Query["access_token"].ToString() is { Length: > 0 } token
            ? token
            : null;
    }
}
