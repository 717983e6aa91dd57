using System.Text.Json.Serialization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Workspaces;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class Register
{
    /// <param name="FullName">ForgeTM's name field, taken when <c>name</c> is absent.</param>
    internal sealed record Request(
        string? Email, string? Username, string? Password, string? Name, string? Lastname, [property: JsonPropertyName("full_name")] string? FullName);

    public static async Task<IResult> HandleAsync(
        Request request, UserDirectory users, WorkspaceDirectory workspaces, OneTimeTokens oneTimeTokens, EmailOutbox outbox,
        IOptions<AuthOptions> auth, IOptions<EmailOptions> email, PlatformEventLog events, TimeProvider time, ILogger<UserDirectory> logger,
        CancellationToken cancellationToken)
    {
        request = request with { Name = string.IsNullOrWhiteSpace(request.Name) ? request.FullName : request.Name };
        var emailValue = string.IsNullOrWhiteSpace(request.Email) ? null : request.Email.Trim();
        var username = string.IsNullOrWhiteSpace(request.Username) ? null : request.Username.Trim();
        var check = new Validator()
            .When(emailValue is null && username is null, "email", "Give an email or a username.")
            .CheckEmail("email", emailValue)
            .CheckUsername("username", username)
            .CheckPassword("password", request.Password, emailValue, username)
            .MaxLength("name", request.Name, 100)
            .MaxLength("lastname", request.Lastname, 100);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var userId = Secrets.NewId("usr");
        var claimed = new List<(string Kind, string Value)>();
        foreach (var (kind, value) in new[] { ("email", emailValue), ("username", username) })
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

                return Api.Conflict($"This {kind} is already registered.");
            }

            claimed.Add((kind, value));
        }

        var admin = await users.ClaimPlatformAdminAsync(userId, cancellationToken);
        var displayName = request.Name ?? username ?? emailValue!;
        var workspace = await workspaces.CreateAsync(null, $"{displayName}'s workspace", null, userId, personal: true, cancellationToken);
        var now = time.GetUtcNow();
        var user = new UserRecord(userId, emailValue, username, request.Name, request.Lastname, "", admin, false, workspace.Id,
            0, null, Secrets.NewToken(16), new UserSettings(), now, now);
        user = user with { PasswordHash = users.HashPassword(user, request.Password!) };
        await users.InsertAsync(user, cancellationToken);
        IdentityLog.Registered(logger, user.Id, admin);
        await events.AppendOnceAsync(workspace.Id, $"{PlatformEventTypes.UserCreated}:{user.Id}", PlatformEventTypes.UserCreated,
            new JsonObject { ["userId"] = user.Id, ["email"] = user.Email }, cancellationToken);

        if (emailValue is not null)
        {
            var token = await oneTimeTokens.IssueAsync(OneTimeTokens.VerifyEmail, user, TimeSpan.FromHours(auth.Value.EmailVerificationHours), cancellationToken);
            await outbox.EnqueueAsync(new EmailMessage(emailValue, "Confirm your email address",
                $"Confirm your email address: {email.Value.PublicBaseUrl}/verify-email?token={token}\n\nOr POST /api/v1/auth/verify-email with {{\"token\":\"{token}\"}}."), cancellationToken);
        }

        return Api.Created(UserDto.From(user), "/api/v1/user/profile");
    }
}
