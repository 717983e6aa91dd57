namespace Serverless.Functions.Features.Identity.Admin;

/// <summary>A platform user as admins see them.</summary>
internal sealed record AdminUserDto(
    string Id, string? Email, string? Username, string? Name, string? Lastname, bool EmailVerified, bool IsPlatformAdmin, bool Disabled,
    string PersonalWorkspaceId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static AdminUserDto From(UserRecord u) =>
        new(u.Id, u.Email, u.Username, u.Name, u.Lastname, u.EmailVerified, u.IsPlatformAdmin, u.Disabled, u.PersonalWorkspaceId, u.CreatedAt, u.UpdatedAt);
}
