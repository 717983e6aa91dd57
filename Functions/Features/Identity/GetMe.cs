using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class GetMe
{
    public static async Task<IResult> HandleAsync(Caller caller, UserDirectory users, CancellationToken cancellationToken)
    {
        var user = await users.GetAsync(caller.UserId, cancellationToken);
        return user is null
            ? Api.Unauthorized("The user no longer exists.")
            : Api.Ok(new MeDto(UserDto.From(user), caller.IsApiKey ? "api_key" : "jwt", caller.ApiKeyId, caller.BoundWorkspaceId,
                [.. caller.EffectiveScopes.Order(StringComparer.Ordinal)]));
    }
}
