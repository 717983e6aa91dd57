using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Identity;

internal static class RefreshSession
{
    internal sealed record Request(string? RefreshToken);

    public static async Task<IResult> HandleAsync(Request request, Sessions sessions, UserDirectory users, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            return Api.Validation("refreshToken", "refreshToken is required.");
        }

        var (outcome, tokens, user) = await sessions.RefreshAsync(request.RefreshToken, users, cancellationToken);
        return outcome switch
        {
            RefreshOutcome.Refreshed => Api.Ok(SessionDto.From(tokens!, user!)),
            RefreshOutcome.ReuseDetected => Api.Unauthorized("This refresh token was already used; the session has been revoked. Sign in again."),
            _ => Api.Unauthorized("The refresh token is invalid or expired."),
        };
    }
}
