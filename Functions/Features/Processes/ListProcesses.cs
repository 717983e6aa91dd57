using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Processes;

internal static class ListProcesses
{
    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "trigger_type")] string? triggerType, ProcessStore processes,
        CancellationToken cancellationToken)
    {
        if (query.Check(processes.List.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (triggerType is not null && !ProcessTriggers.All.Contains(triggerType))
        {
            return Api.Validation("trigger_type", $"trigger_type must be one of {string.Join(", ", ProcessTriggers.All)}.");
        }

        var request = new ListRequest<ProcessRecord> { Filters = triggerType is null ? [] : [("triggerType", triggerType)] };
        return await IndexedPaging.PageAsync(processes.List, workspace.WorkspaceId, query, request, cancellationToken) is { } page
            ? Api.Page(page.Map(ProcessDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
