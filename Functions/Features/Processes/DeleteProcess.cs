using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Processes;

internal static class DeleteProcess
{
    /// <summary>Deletes the process; its schedule and event subscription stop at once (runs it started go on).</summary>
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ProcessStore processes, CancellationToken cancellationToken) =>
        await processes.DeleteAsync(workspace.WorkspaceId, id, cancellationToken) ? Api.NoContent() : Api.NotFound("The process was not found.");
}
