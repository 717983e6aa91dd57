using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Processes;

internal static class ListProcessExecutions
{
    /// <summary>The process's executions, newest first; those whose run is still going show its state as it is now.</summary>
    public static async Task<IResult> HandleAsync(
        string id, WorkspaceContext workspace, ListQuery query, ProcessStore processes, ProcessExecutor executor, CancellationToken cancellationToken)
    {
        if (await processes.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } process)
        {
            return Api.NotFound("The process was not found.");
        }

        if (query.Check(processes.Executions.SortFields) is { } invalid)
        {
            return invalid;
        }

        var request = new ListRequest<ProcessExecutionRecord> { Resolve = executor.ResolveAsync };
        return await IndexedPaging.PageAsync(processes.Executions, process.Id, query, request, cancellationToken) is { } page
            ? Api.Page(page.Map(ProcessExecutionDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
