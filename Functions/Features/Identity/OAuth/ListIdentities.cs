using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity.OAuth;

internal sealed record IdentityDto(string Provider, string Subject, string? Email, bool EmailVerified, DateTimeOffset LinkedAt);

internal sealed record IdentitiesDto(bool HasPassword, IReadOnlyList<IdentityDto> Identities);

internal static class ListIdentities
{
    public static async Task<IResult> HandleAsync(Caller caller, UserDirectory users, ExternalIdentities identities, CancellationToken cancellationToken)
    {
        if (await users.GetAsync(caller.UserId, cancellationToken) is not { } user)
        {
            return Api.Unauthorized("The user no longer exists.");
        }

        var linked = await identities.ListAsync(user.Id, cancellationToken);
        return Api.Ok(new IdentitiesDto(user.PasswordHash.Length > 0,
            [.. linked.Select(i => new IdentityDto(i.Provider, i.Subject, i.Email, i.EmailVerified, i.LinkedAt))]));
    }
}
