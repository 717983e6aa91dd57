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

        // Two unlinks at once could each see the other's account and remove both: the last way in is checked again
        // after the removal, and put back when nothing is left (whichever removal comes last sees the other's).
        if (await identities.UnlinkAsync(user.Id, provider, cancellationToken) is not { } removed)
        {
            return Api.NotFound($"No '{provider}' account is linked.");
        }

        if (user.PasswordHash.Length == 0 && (await identities.ListAsync(user.Id, cancellationToken)).Count == 0)
        {
            await identities.RestoreAsync(user.Id, removed, cancellationToken);
            return Api.Conflict("This is the last way to sign in: set a password (forgot-password) or link another provider first.");
        }

        return Api.NoContent();
    }
}
