using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class Login
{
    internal sealed record Request(string? Email, string? Username, string? Password);

    // Verifying against a real hash when the user does not exist keeps both answers equally slow.
    private static string? s_decoyHash;

    public static async Task<IResult> HandleAsync(
        Request request, UserDirectory users, Sessions sessions, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        var login = request.Email ?? request.Username;
        var check = new Validator()
            .When(string.IsNullOrWhiteSpace(login), "email", "Give an email or a username.")
            .When(string.IsNullOrEmpty(request.Password), "password", "password is required.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var user = await users.FindByLoginValueAsync(login!, cancellationToken);
        if (user is null)
        {
            s_decoyHash ??= users.HashPassword(null, Secrets.NewToken());
            users.VerifyPassword(DecoyUser(s_decoyHash), request.Password!);
            return Api.Unauthorized("Invalid credentials.");
        }

        var now = time.GetUtcNow();
        if (user.LockedUntil is { } lockedUntil && lockedUntil > now)
        {
            return Locked(context, lockedUntil - now);
        }

        var verdict = users.VerifyPassword(user, request.Password!);
        if (verdict == PasswordVerificationResult.Failed)
        {
            return await users.RecordFailedSignInAsync(user.Id, cancellationToken) is { } locked
                ? Locked(context, locked - now)
                : Api.Unauthorized("Invalid credentials.");
        }

        // Said only to whoever knows the password: a guesser learns nothing about the account.
        if (user.Disabled)
        {
            return Api.Forbidden(DisabledAccount.Message);
        }

        if (user.FailedLogins > 0 || user.LockedUntil is not null || verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            var password = request.Password!;
            user = (await users.UpdateAsync(user.Id, u => u with
            {
                FailedLogins = 0,
                LockedUntil = null,
                PasswordHash = verdict == PasswordVerificationResult.SuccessRehashNeeded ? users.HashPassword(u, password) : u.PasswordHash,
            }, cancellationToken))?.Value ?? user;
        }

        var tokens = await sessions.StartAsync(user, cancellationToken);
        return Api.Ok(SessionDto.From(tokens, user));
    }

    private static ErrorResult Locked(HttpContext context, TimeSpan remaining)
    {
        var seconds = (int)Math.Ceiling(remaining.TotalSeconds);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Api.Forbidden($"The account is locked after repeated failed sign-ins; try again in {seconds} s.");
    }

    private static UserRecord DecoyUser(string hash) =>
        new("decoy", null, null, null, null, hash, false, false, "", 0, null, "", new UserSettings(), default, default);
}
