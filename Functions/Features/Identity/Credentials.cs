using System.Net.Mail;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Identity;

/// <summary>The rules a login name and a password must meet.</summary>
internal static class Credentials
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 128;

    public static Validator CheckPassword(this Validator check, string field, string? password, params string?[] mustDifferFrom)
    {
        if (string.IsNullOrEmpty(password))
        {
            return check.Add(field, "password is required.");
        }

        if (password.Length is < MinPasswordLength or > MaxPasswordLength)
        {
            return check.Add(field, $"password must be {MinPasswordLength} to {MaxPasswordLength} characters.");
        }

        if (!password.Any(char.IsLetter) || !password.Any(char.IsDigit))
        {
            return check.Add(field, "password must contain at least one letter and one digit.");
        }

        return check.When(mustDifferFrom.Any(v => v is not null && string.Equals(v, password, StringComparison.OrdinalIgnoreCase)),
            field, "password must not be the same as the email or username.");
    }

    public static Validator CheckEmail(this Validator check, string field, string? email)
    {
        if (email is null)
        {
            return check;
        }

        var ok = email.Length <= 254 && MailAddress.TryCreate(email, out var parsed) && parsed.Address == email.Trim() && email.Contains('@', StringComparison.Ordinal);
        return check.When(!ok, field, "email is not a valid email address.");
    }

    public static Validator CheckUsername(this Validator check, string field, string? username)
    {
        if (username is null)
        {
            return check;
        }

        var ok = username.Length is >= 3 and <= 50 && username.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
        return check.When(!ok, field, "username must be 3 to 50 characters: letters, digits, '_', '.', '-'.");
    }
}
