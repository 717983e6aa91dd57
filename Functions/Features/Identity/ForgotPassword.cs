using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class ForgotPassword
{
    internal sealed record Request(string? Email);

    public static async Task<IResult> HandleAsync(
        Request request, UserDirectory users, OneTimeTokens oneTimeTokens, EmailOutbox outbox,
        IOptions<AuthOptions> auth, IOptions<EmailOptions> email, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("email", request.Email, 254).CheckEmail("email", request.Email?.Trim());
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        // The answer is the same whether or not the address is registered, so it reveals nothing.
        if (await users.FindByLoginValueAsync(request.Email!.Trim(), cancellationToken) is { Email: { } to } user)
        {
            var token = await oneTimeTokens.IssueAsync(OneTimeTokens.ResetPassword, user, TimeSpan.FromHours(auth.Value.PasswordResetHours), cancellationToken);
            await outbox.EnqueueAsync(new EmailMessage(to, "Reset your password",
                $"Reset your password: {email.Value.PublicBaseUrl}/reset-password?token={token}\n\nOr POST /api/v1/auth/reset-password with {{\"token\":\"{token}\",\"password\":\"…\"}}. The link expires in {auth.Value.PasswordResetHours} h."), cancellationToken);
        }

        return Api.Accepted(new MessageDto("If the address is registered, a reset link is on its way."));
    }
}
