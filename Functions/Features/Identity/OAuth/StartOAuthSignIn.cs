using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity.OAuth;

internal static class StartOAuthSignIn
{
    /// <param name="state">The frontend's own state, returned to it unchanged with the result.</param>
    public static async Task<IResult> HandleAsync(
        string provider, [FromQuery(Name = "redirect_uri")] string? redirectUri, [FromQuery(Name = "state")] string? state,
        IOptions<OAuthOptions> options, OAuthStates states, OAuthClient client, HttpContext context, ILogger<OAuthClient> logger,
        CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.Find(provider) is not { } settings)
        {
            return Api.NotFound($"There is no sign-in provider '{provider}'.");
        }

        var check = new Validator()
            .When(string.IsNullOrEmpty(redirectUri) || !o.RedirectUris.Contains(redirectUri, StringComparer.Ordinal),
                "redirect_uri", "redirect_uri must be one of the frontend URIs the operator allowed (OAuth__AllowedRedirectUris).")
            .MaxLength("state", state, 512);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var codeVerifier = Secrets.NewToken();
        var nonce = Secrets.NewToken(16);
        var callback = OAuthRedirects.CallbackUrl(o, context, settings.Name);
        var stateToken = await states.StartAsync(new OAuthStateRecord(settings.Name, redirectUri!, state, callback, codeVerifier, nonce, default), cancellationToken);
        try
        {
            return Results.Redirect(await client.AuthorizeUrlAsync(settings, callback, stateToken, OAuthRedirects.CodeChallenge(codeVerifier), nonce, cancellationToken));
        }
        catch (OAuthFailure failure)
        {
            IdentityLog.OAuthFailed(logger, settings.Name, failure.Code, failure.Message);
            return OAuthRedirects.Error(redirectUri!, failure.Code, state);
        }
    }
}
