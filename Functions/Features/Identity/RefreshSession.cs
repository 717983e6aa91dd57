using System.Text.Json.Serialization;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class RefreshSession
{
    /// <param name="RefreshTokenAlias">ForgeTM's spelling of the same field.</param>
    internal sealed record Request(string? RefreshToken, [property: JsonPropertyName("refresh_token")] string? RefreshTokenAlias);

    public static async Task<IResult> HandleAsync(Request request, Sessions sessions, UserDirectory users, CancellationToken cancellationToken)
    {
        var refreshToken = string.IsNullOrWhiteSpace(request.RefreshToken) ? request.RefreshTokenAlias : request.RefreshToken;
        if (string.IsNullOrWhiteSpace(refreshToken))
        {
            return Api.Validation("refreshToken", "refreshToken (or refresh_token) is required.");
        }

        var (outcome, tokens, user) = await sessions.RefreshAsync(refreshToken, users, cancellationToken);
        return outcome switch
        {
            RefreshOutcome.Refreshed => Api.Ok(SessionDto.From(tokens!, user!)),
            RefreshOutcome.Disabled => Api.Forbidden(DisabledAccount.Message),
            RefreshOutcome.ReuseDetected => Api.Unauthorized("This refresh token was already used; the session has been revoked. Sign in again."),
            _ => Api.Unauthorized("The refresh token is invalid or expired."),
        };
    }
}
