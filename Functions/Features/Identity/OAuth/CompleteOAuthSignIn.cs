using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Identity.OAuth;

internal static class CompleteOAuthSignIn
{
    /// <summary>How long the frontend has to trade the one-time code for tokens.</summary>
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(2);

    public static async Task<IResult> HandleAsync(
        string provider, [FromQuery(Name = "state")] string? state, [FromQuery(Name = "code")] string? code, [FromQuery(Name = "error")] string? error,
        IOptions<OAuthOptions> options, OAuthStates states, OAuthClient client, ExternalIdentities identities, UserDirectory users, UserAccounts accounts,
        OneTimeTokens oneTimeTokens, ILogger<OAuthClient> logger, CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.Find(provider) is not { } settings)
        {
            return Api.NotFound($"There is no sign-in provider '{provider}'.");
        }

        // Without a state of ours nothing here can be trusted, the redirect URI included: answer here, send nobody anywhere.
        var pending = string.IsNullOrEmpty(state) ? null : await states.TakeAsync(settings.Name, state, cancellationToken);
        if (pending is null || !o.RedirectUris.Contains(pending.RedirectUri, StringComparer.Ordinal))
        {
            return Api.BadRequest("The sign-in state is unknown, already used or expired; start the sign-in again.");
        }

        if (!string.IsNullOrEmpty(error) || string.IsNullOrEmpty(code))
        {
            var reason = error is { Length: <= 64 } e && e.All(c => char.IsAsciiLetterLower(c) || c == '_') ? e : "invalid_request";
            return OAuthRedirects.Error(pending.RedirectUri, reason, pending.ClientState);
        }

        try
        {
            var profile = await client.SignInAsync(settings, code, pending.Callback, pending.CodeVerifier, pending.Nonce, cancellationToken);
            var (user, failure) = await FindOrCreateUserAsync(settings.Name, profile, identities, users, accounts, logger, cancellationToken);
            if (user is null)
            {
                IdentityLog.OAuthFailed(logger, settings.Name, failure!, "The provider account could not be matched to a user.");
                return OAuthRedirects.Error(pending.RedirectUri, failure!, pending.ClientState);
            }

            if (user.Disabled)
            {
                IdentityLog.OAuthFailed(logger, settings.Name, "account_disabled", "The user is disabled.");
                return OAuthRedirects.Error(pending.RedirectUri, "account_disabled", pending.ClientState);
            }

            var oneTime = await oneTimeTokens.IssueAsync(OneTimeTokens.OAuthSignIn, user, CodeLifetime, cancellationToken);
            return OAuthRedirects.Success(pending.RedirectUri, oneTime, pending.ClientState);
        }
        catch (OAuthFailure f)
        {
            IdentityLog.OAuthFailed(logger, settings.Name, f.Code, f.Message);
            return OAuthRedirects.Error(pending.RedirectUri, f.Code, pending.ClientState);
        }
    }

    /// <summary>
    /// The user the provider account is linked to; else the user whose email it is, only when both the provider and
    /// we verified that email (an unverified one could be anybody's: linking a verified sign-in to an account someone
    /// registered with another's email would hand that someone the account); else a new user.
    /// </summary>
    private static async Task<(UserRecord? User, string? Failure)> FindOrCreateUserAsync(
        string provider, ExternalProfile profile, ExternalIdentities identities, UserDirectory users, UserAccounts accounts, ILogger logger,
        CancellationToken cancellationToken)
    {
        if (await LinkedUserAsync(provider, profile, identities, users, cancellationToken) is { } linked)
        {
            return (linked, null);
        }

        var email = profile.Email?.Trim() is { Length: > 0 } e && new Validator().CheckEmail("email", e).IsValid ? e : null;
        var user = email is null ? null : await users.FindByLoginValueAsync(email, cancellationToken);
        if (user is not null && !profile.EmailVerified)
        {
            return (null, "email_not_verified");
        }

        if (user is not null && !user.EmailVerified)
        {
            return (null, "account_not_verified");
        }

        if (user is null)
        {
            var name = profile.Name is { Length: > 100 } n ? n[..100] : profile.Name;
            (user, _) = await accounts.CreateAsync(email, null, name, null, profile.EmailVerified, null, cancellationToken);
            if (user is null)
            {
                // A first sign-in of the same account racing this one won the email; else someone registered it meanwhile.
                return await LinkedUserAsync(provider, profile, identities, users, cancellationToken) is { } winner ? (winner, null) : (null, "account_exists");
            }
        }

        if (!await identities.LinkAsync(user.Id, provider, profile, cancellationToken))
        {
            return await LinkedUserAsync(provider, profile, identities, users, cancellationToken) is { } winner ? (winner, null) : (null, "identity_conflict");
        }

        IdentityLog.OAuthLinked(logger, user.Id, provider);
        return (user, null);
    }

    private static async Task<UserRecord?> LinkedUserAsync(
        string provider, ExternalProfile profile, ExternalIdentities identities, UserDirectory users, CancellationToken cancellationToken) =>
        await identities.FindUserIdAsync(provider, profile.Subject, cancellationToken) is { } userId ? await users.GetAsync(userId, cancellationToken) : null;
}
