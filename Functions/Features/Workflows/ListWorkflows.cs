using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class ListWorkflows
{
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var (page, error) = await PageAsync(workspace, query, workflows, cancellationToken);
        return error ?? Api.Page(page!.Map(WorkflowSummaryDto.From));
    }

    /// <summary>A page of the workspace's workflows (archived ones only when asked for by status), for any shape of list.</summary>
    public static async Task<(PageResult<WorkflowRecord>? Page, IResult? Error)> PageAsync(
        WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var list = workflows.List;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return (null, invalid);
        }

        var status = query.Status?.ToUpperInvariant();
        if (query.Status is not null && !WorkflowStatus.IsValid(status))
        {
            return (null, Api.Validation("status", "status must be ACTIVE, PAUSED or ARCHIVED."));
        }

        // Archived workflows are kept for the record but stay out of the way unless asked for by status.
        var request = new ListRequest<WorkflowRecord> { Filters = status is null ? [("visible", WorkflowStore.Visible)] : [] };
        return await IndexedPaging.PageAsync(list, workspace.WorkspaceId, query with { Status = status }, request, cancellationToken) is { } page
            ? (page, null)
            : (null, IndexedPaging.InvalidCursor());
    }
}
