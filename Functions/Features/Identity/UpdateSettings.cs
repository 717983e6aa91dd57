using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class UpdateSettings
{
    /// <summary>Any subset; an absent field stays as it is.</summary>
    internal sealed record Request(string? Theme, string? Language, string? Timezone, bool? EmailNotifications);

    public static async Task<IResult> HandleAsync(Request request, Caller caller, UserDirectory users, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(request.Theme is not (null or "light" or "dark" or "system"), "theme", "theme must be light, dark or system.")
            .When(request.Language is { } l && (l.Length is < 2 or > 35 || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')), "language", "language must be a language tag such as en or pt-BR.")
            .When(request.Timezone is { } tz && !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _), "timezone", "timezone must be an IANA time zone such as Europe/Paris.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var updated = await users.UpdateAsync(caller.UserId, u => u with
        {
            Settings = new UserSettings(
                request.Theme ?? u.Settings.Theme,
                request.Language ?? u.Settings.Language,
                request.Timezone ?? u.Settings.Timezone,
                request.EmailNotifications ?? u.Settings.EmailNotifications),
            UpdatedAt = time.GetUtcNow(),
        }, cancellationToken);
        return updated is null ? Api.NotFound("The user no longer exists.") : Api.Ok(updated.Value.Settings);
    }
}
