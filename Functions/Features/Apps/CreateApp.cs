using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Apps;

internal static class CreateApp
{
    internal sealed record Request(string? Name, string? Description, string? Type, string? Status, AppConfig? Config, IReadOnlyList<string>? Tags, WorkflowBundle? Workflow);

    public static async Task<IResult> HandleAsync(Request request, Caller caller, WorkspaceContext workspace, AppFactory factory, CancellationToken cancellationToken)
    {
        var (app, error) = await factory.CreateAsync(workspace.WorkspaceId, caller.UserId, request.Name, request.Description, request.Type, request.Status,
            request.Config, request.Tags, request.Workflow, cancellationToken);
        return error ?? Api.Created(AppDto.From(app!), $"/api/v1/apps/{app!.Id}");
    }
}
