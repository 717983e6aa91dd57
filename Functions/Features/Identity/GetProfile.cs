using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class GetProfile
{
    public static async Task<IResult> HandleAsync(Caller caller, UserDirectory users, CancellationToken cancellationToken) =>
        await users.GetAsync(caller.UserId, cancellationToken) is { } user ? Api.Ok(UserDto.From(user)) : Api.NotFound("The user no longer exists.");
}
