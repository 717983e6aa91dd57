using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

internal static class GetTask
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, TaskBoard board, CancellationToken cancellationToken) =>
        await board.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } task ? Api.Ok(TaskDto.From(task)) : Api.NotFound("The task was not found.");
}
