using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity.OAuth;

internal static class ExchangeOAuthCode
{
    internal sealed record Request(string? Code);

    public static async Task<IResult> HandleAsync(Request request, OneTimeTokens oneTimeTokens, UserDirectory users, Sessions sessions, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Code))
        {
            return Api.Validation("code", "code is required.");
        }

        var user = await oneTimeTokens.ConsumeAsync(OneTimeTokens.OAuthSignIn, request.Code, users, cancellationToken);
        if (user is null)
        {
            return Api.BadRequest("The sign-in code is unknown, already used or expired.");
        }

        // Disabled between the provider's return and this exchange.
        if (user.Disabled)
        {
            return Api.Forbidden(DisabledAccount.Message);
        }

        var tokens = await sessions.StartAsync(user, cancellationToken);
        return Api.Ok(SessionDto.From(tokens, user));
    }
}
