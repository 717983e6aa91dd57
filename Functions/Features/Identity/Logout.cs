using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Identity;

internal static class Logout
{
    internal sealed record Request(string? RefreshToken);

    public static async Task<IResult> HandleAsync(Request request, Sessions sessions, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.RefreshToken))
        {
            return Api.Validation("refreshToken", "refreshToken is required.");
        }

        await sessions.EndAsync(request.RefreshToken, cancellationToken);
        return Api.NoContent();
    }
}
