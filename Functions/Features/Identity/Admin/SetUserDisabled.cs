using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity.Admin;

/// <summary>
/// <c>POST /api/v1/admin/users/{id}/disable</c> and <c>/enable</c>. A disabled user cannot sign in (password or provider)
/// or refresh, and their access tokens and API keys are refused; disabling also ends their sessions (a new security
/// stamp), so enabling lets them sign in again rather than reviving old refresh tokens.
/// </summary>
internal static class SetUserDisabled
{
    public static Task<IResult> DisableAsync(string id, Caller caller, UserDirectory users, DisabledUsers disabled, ILogger<UserDirectory> logger, CancellationToken cancellationToken) =>
        SetAsync(id, true, caller, users, disabled, logger, cancellationToken);

    public static Task<IResult> EnableAsync(string id, Caller caller, UserDirectory users, DisabledUsers disabled, ILogger<UserDirectory> logger, CancellationToken cancellationToken) =>
        SetAsync(id, false, caller, users, disabled, logger, cancellationToken);

    private static async Task<IResult> SetAsync(
        string id, bool disable, Caller caller, UserDirectory users, DisabledUsers disabled, ILogger logger, CancellationToken cancellationToken)
    {
        if (disable && id == caller.UserId)
        {
            return Api.Conflict("You cannot disable yourself.");
        }

        if (!Orchestrations.Ports.StoreKeys.IsValidKey(id) || await users.GetAsync(id, cancellationToken) is null)
        {
            return Api.NotFound("The user was not found.");
        }

        // Disabling lists the user before flagging them and enabling unflags before unlisting, so a failure half way
        // errs on the refusing side; repeating the request completes it.
        if (disable)
        {
            await disabled.AddAsync(id, cancellationToken);
        }

        var updated = await users.UpdateAsync(id, u => u.Disabled == disable
            ? null
            : u with { Disabled = disable, SecurityStamp = disable ? Secrets.NewToken(16) : u.SecurityStamp }, cancellationToken);
        if (!disable)
        {
            await disabled.RemoveAsync(id, cancellationToken);
        }

        if (updated is null)
        {
            return Api.NotFound("The user was not found.");
        }

        if (disable)
        {
            IdentityLog.Disabled(logger, id, caller.UserId);
        }
        else
        {
            IdentityLog.Enabled(logger, id, caller.UserId);
        }

        return Api.Ok(AdminUserDto.From(updated.Value));
    }
}
