using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.WorkflowTriggers;

internal static class DeleteTrigger
{
    public static async Task<IResult> HandleAsync(string id, string triggerId, WorkspaceContext workspace, TriggerStore triggers, CancellationToken cancellationToken) =>
        await triggers.DeleteAsync(workspace.WorkspaceId, id, triggerId, cancellationToken) ? Api.NoContent() : Api.NotFound("The trigger was not found.");
}
