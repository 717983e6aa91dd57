using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity.OAuth;

internal static class UnlinkIdentity
{
    public static async Task<IResult> HandleAsync(string provider, Caller caller, UserDirectory users, ExternalIdentities identities, CancellationToken cancellationToken)
    {
        if (await users.GetAsync(caller.UserId, cancellationToken) is not { } user)
        {
            return Api.Unauthorized("The user no longer exists.");
        }

        var linked = await identities.ListAsync(user.Id, cancellationToken);
        if (!linked.Any(i => i.Provider == provider))
        {
            return Api.NotFound($"No '{provider}' account is linked.");
        }

        if (user.PasswordHash.Length == 0 && linked.Count == 1)
        {
            return Api.Conflict("This is the last way to sign in: set a password (forgot-password) or link another provider first.");
        }

        await identities.UnlinkAsync(user.Id, provider, cancellationToken);
        return Api.NoContent();
    }
}
