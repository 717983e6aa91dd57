using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class ListWorkflows
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var list = workflows.List;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        var status = query.Status?.ToUpperInvariant();
        if (query.Status is not null && !WorkflowStatus.IsValid(status))
        {
            return Api.Validation("status", "status must be ACTIVE, PAUSED or ARCHIVED.");
        }

        // Archived workflows are kept for the record but stay out of the way unless asked for by status.
        var request = new ListRequest<WorkflowRecord> { Filters = status is null ? [("visible", WorkflowStore.Visible)] : [] };
        return await IndexedPaging.PageAsync(list, workspace.WorkspaceId, query with { Status = status }, request, cancellationToken) is { } page
            ? Api.Page(page.Map(WorkflowSummaryDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
