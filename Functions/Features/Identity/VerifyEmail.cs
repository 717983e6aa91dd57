using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Identity;

internal static class VerifyEmail
{
    internal sealed record Request(string? Token);

    public static async Task<IResult> HandleAsync(Request request, UserDirectory users, OneTimeTokens oneTimeTokens, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("token", request.Token, 200);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var user = await oneTimeTokens.ConsumeAsync(OneTimeTokens.VerifyEmail, request.Token!, users, cancellationToken);
        if (user is null)
        {
            return Api.BadRequest("The verification token is invalid, expired or already used.");
        }

        var updated = await users.UpdateAsync(user.Id, u => u with { EmailVerified = true, UpdatedAt = time.GetUtcNow() }, cancellationToken);
        return Api.Ok(UserDto.From(updated?.Value ?? user));
    }
}
