using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workspaces;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

/// <summary>Creating a user, however they sign up: their logins claimed, their personal workspace, the user.created event.</summary>
internal sealed class UserAccounts(UserDirectory users, WorkspaceDirectory workspaces, PlatformEventLog events, TimeProvider time, ILogger<UserDirectory> logger)
{
    /// <summary>
    /// The new user, or the kind of login (<c>email</c>, <c>username</c>) another user holds; then nothing is kept.
    /// Without <paramref name="password"/> the user signs in only through a linked provider (until a password reset).
    /// </summary>
    public async Task<(UserRecord? User, string? TakenLogin)> CreateAsync(
        string? email, string? username, string? name, string? lastname, bool emailVerified, string? password, CancellationToken cancellationToken)
    {
        var userId = Secrets.NewId("usr");
        var claimed = new List<(string Kind, string Value)>();
        foreach (var (kind, value) in new[] { ("email", email), ("username", username) })
        {
            if (value is null)
            {
                continue;
            }

            if (!await users.ClaimLoginAsync(kind, value, userId, cancellationToken))
            {
                foreach (var (k, v) in claimed)
                {
                    await users.ReleaseLoginAsync(k, v, cancellationToken);
                }

                return (null, kind);
            }

            claimed.Add((kind, value));
        }

        var admin = await users.ClaimPlatformAdminAsync(userId, cancellationToken);
        var displayName = name ?? username ?? email ?? "New user";
        var workspace = await workspaces.CreateAsync(null, $"{displayName}'s workspace", null, userId, personal: true, cancellationToken);
        var now = time.GetUtcNow();
        var user = new UserRecord(userId, email, username, name, lastname, "", admin, emailVerified, workspace.Id,
            0, null, Secrets.NewToken(16), new UserSettings(), now, now);
        if (password is not null)
        {
            user = user with { PasswordHash = users.HashPassword(user, password) };
        }

        await users.InsertAsync(user, cancellationToken);
        IdentityLog.Registered(logger, user.Id, admin);
        await events.AppendOnceAsync(workspace.Id, $"{PlatformEventTypes.UserCreated}:{user.Id}", PlatformEventTypes.UserCreated,
            new JsonObject { ["userId"] = user.Id, ["email"] = user.Email }, cancellationToken);
        return (user, null);
    }
}
