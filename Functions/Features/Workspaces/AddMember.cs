using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workspaces;

internal static class AddMember
{
    internal sealed record Request(string? UserId, string? Email, string? Username, string? Role);

    public static async Task<IResult> HandleAsync(Request request, WorkspaceContext workspace, WorkspaceDirectory directory, IUserLookup users, CancellationToken cancellationToken)
    {
        var role = WorkspaceRoles.Parse(request.Role ?? "member");
        var login = request.Email ?? request.Username;
        var check = new Validator()
            .When(role is null, "role", "role must be one of owner, admin, member, viewer.")
            .When(request.UserId is null && string.IsNullOrWhiteSpace(login), "userId", "Give the userId, email or username of a registered user.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (role > workspace.Role)
        {
            return Api.Forbidden($"You cannot grant a role above your own ({workspace.Role.ToWire()}).");
        }

        var user = request.UserId is { } id
            ? await users.FindByIdAsync(id, cancellationToken)
            : await users.FindByLoginAsync(login!, cancellationToken);
        if (user is null)
        {
            return Api.NotFound("No registered user matches.");
        }

        var member = await directory.AddMemberAsync(workspace.WorkspaceId, user.Id, role!.Value, cancellationToken);
        return member is null
            ? Api.Conflict("The user already is a member of this workspace.")
            : Api.Created(await ListMembers.ToDtoAsync(member, users, cancellationToken));
    }
}
