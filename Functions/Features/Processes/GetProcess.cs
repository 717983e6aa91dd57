using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Processes;

internal static class GetProcess
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ProcessStore processes, CancellationToken cancellationToken) =>
        await processes.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } process
            ? Api.Ok(ProcessDto.From(process))
            : Api.NotFound("The process was not found.");
}
