using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class Register
{
    /// <param name="FullName">ForgeTM's name field, taken when <c>name</c> is absent.</param>
    internal sealed record Request(
        string? Email, string? Username, string? Password, string? Name, string? Lastname, [property: JsonPropertyName("full_name")] string? FullName);

    public static async Task<IResult> HandleAsync(
        Request request, UserAccounts accounts, OneTimeTokens oneTimeTokens, EmailOutbox outbox,
        IOptions<AuthOptions> auth, IOptions<EmailOptions> email, CancellationToken cancellationToken)
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

        var (user, taken) = await accounts.CreateAsync(emailValue, username, request.Name, request.Lastname, false, request.Password!, cancellationToken);
        if (user is null)
        {
            return Api.Conflict($"This {taken} is already registered.");
        }

        if (emailValue is not null)
        {
            var token = await oneTimeTokens.IssueAsync(OneTimeTokens.VerifyEmail, user, TimeSpan.FromHours(auth.Value.EmailVerificationHours), cancellationToken);
            await outbox.EnqueueAsync(new EmailMessage(emailValue, "Confirm your email address",
                $"Confirm your email address: {email.Value.PublicBaseUrl}/verify-email?token={token}\n\nOr POST /api/v1/auth/verify-email with {{\"token\":\"{token}\"}}."), cancellationToken);
        }

        return Api.Created(UserDto.From(user), "/api/v1/user/profile");
    }
}
