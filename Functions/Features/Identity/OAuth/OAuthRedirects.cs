using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Serverless.Functions.Features.Identity.OAuth;

/// <summary>Where a sign-in sends the browser: the provider's callback to us, and the frontend's registered URI with a result.</summary>
internal static class OAuthRedirects
{
    public static string CallbackUrl(OAuthOptions options, HttpContext context, string provider)
    {
        var root = options.PublicBaseUrl is { Length: > 0 } configured
            ? configured.TrimEnd('/')
            : $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}";
        return $"{root}/api/v1/oauth/{provider}/callback";
    }

    public static string CodeChallenge(string codeVerifier) => Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(codeVerifier)));

    public static IResult Error(string redirectUri, string error, string? clientState) =>
        Results.Redirect(QueryHelpers.AddQueryString(redirectUri, WithState(new() { ["error"] = error }, clientState)));

    public static IResult Success(string redirectUri, string code, string? clientState) =>
        Results.Redirect(QueryHelpers.AddQueryString(redirectUri, WithState(new() { ["code"] = code }, clientState)));

    private static Dictionary<string, string?> WithState(Dictionary<string, string?> query, string? clientState)
    {
        if (clientState is not null)
        {
            query["state"] = clientState;
        }

        return query;
    }
}
