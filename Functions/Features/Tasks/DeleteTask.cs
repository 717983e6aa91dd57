using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

internal static class DeleteTask
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, TaskBoard board, CancellationToken cancellationToken) =>
        await board.DeleteAsync(workspace.WorkspaceId, id, cancellationToken) ? Api.NoContent() : Api.NotFound("The task was not found.");
}
