using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Identity;

internal sealed record OneTimeTokenRecord(string Purpose, string UserId, string SecurityStamp, DateTimeOffset ExpiresAt) : IExpiring;

/// <summary>
/// Single-use, expiring tokens mailed to users (email verification, password reset). Stored hashed; consuming
/// one deletes it conditionally, so two concurrent uses cannot both succeed. A token issued before the user's
/// security stamp changed (e.g. the password was reset) is void.
/// </summary>
internal sealed class OneTimeTokens(IEntityStore store, Expirations expirations, TimeProvider time)
{
    public const string VerifyEmail = "verify-email";
    public const string ResetPassword = "reset-password";
    public const string OAuthSignIn = "oauth-sign-in";

    private readonly EntityTable<OneTimeTokenRecord> _tokens = new(store, "onetimetokens");

    public async Task<string> IssueAsync(string purpose, UserRecord user, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var token = Secrets.NewToken();
        var hash = Secrets.Hash(token);
        var record = new OneTimeTokenRecord(purpose, user.Id, user.SecurityStamp, time.GetUtcNow() + lifetime);
        await _tokens.InsertAsync(hash, "t", record, cancellationToken);
        await expirations.ScheduleAsync(_tokens.Name, hash, "t", record.ExpiresAt, cancellationToken);
        return token;
    }

    /// <summary>The user the token was issued to, when it is valid for <paramref name="purpose"/>; the token is used up either way.</summary>
    public async Task<UserRecord?> ConsumeAsync(string purpose, string token, UserDirectory users, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(token);
        var stored = await _tokens.GetAsync(hash, "t", cancellationToken);
        if (stored is null || stored.Value.Purpose != purpose || stored.Value.ExpiresAt <= time.GetUtcNow())
        {
            return null;
        }

        if (!(await _tokens.DeleteAsync(hash, "t", stored.ETag, cancellationToken)).Succeeded)
        {
            return null;
        }

        var user = await users.GetAsync(stored.Value.UserId, cancellationToken);
        return user?.SecurityStamp == stored.Value.SecurityStamp ? user : null;
    }
}
