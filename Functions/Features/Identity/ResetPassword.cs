using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class ResetPassword
{
    internal sealed record Request(string? Token, string? Password);

    public static async Task<IResult> HandleAsync(
        Request request, UserDirectory users, OneTimeTokens oneTimeTokens, ILogger<UserDirectory> logger, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("token", request.Token, 200).CheckPassword("password", request.Password);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var user = await oneTimeTokens.ConsumeAsync(OneTimeTokens.ResetPassword, request.Token!, users, cancellationToken);
        if (user is null)
        {
            return Api.BadRequest("The reset token is invalid, expired or already used.");
        }

        var password = request.Password!;
        // A new security stamp voids every refresh token and outstanding mailed token of the user.
        await users.UpdateAsync(user.Id, u => u with
        {
            PasswordHash = users.HashPassword(u, password),
            SecurityStamp = Secrets.NewToken(16),
            FailedLogins = 0,
            LockedUntil = null,
        }, cancellationToken);
        IdentityLog.PasswordReset(logger, user.Id);
        return Api.Ok(new MessageDto("The password was changed; sign in again."));
    }
}
