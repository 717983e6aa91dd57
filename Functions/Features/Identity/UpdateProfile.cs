using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Identity;

internal static class UpdateProfile
{
    /// <summary>Any subset; an absent field stays as it is.</summary>
    internal sealed record Request(string? Name, string? Lastname, string? Username);

    public static async Task<IResult> HandleAsync(Request request, Caller caller, UserDirectory users, TimeProvider time, CancellationToken cancellationToken)
    {
        var username = request.Username?.Trim();
        var check = new Validator().MaxLength("name", request.Name, 100).MaxLength("lastname", request.Lastname, 100).CheckUsername("username", username);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var user = await users.GetAsync(caller.UserId, cancellationToken);
        if (user is null)
        {
            return Api.NotFound("The user no longer exists.");
        }

        var renamed = username is not null && !string.Equals(UserDirectory.Normalize(username), UserDirectory.Normalize(user.Username ?? ""), StringComparison.Ordinal);
        if (renamed && !await users.ClaimLoginAsync("username", username!, user.Id, cancellationToken))
        {
            return Api.Conflict("This username is taken.");
        }

        var updated = await users.UpdateAsync(user.Id, u => u with
        {
            Name = request.Name ?? u.Name,
            Lastname = request.Lastname ?? u.Lastname,
            Username = username ?? u.Username,
            UpdatedAt = time.GetUtcNow(),
        }, cancellationToken);

        if (renamed && user.Username is { } old)
        {
            await users.ReleaseLoginAsync("username", old, cancellationToken);
        }

        return Api.Ok(UserDto.From(updated!.Value));
    }
}
