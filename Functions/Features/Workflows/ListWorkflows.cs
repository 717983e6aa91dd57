using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class ListWorkflows
{
    private static readonly ListShape<WorkflowSummaryDto> Shape = new(
        w => w.Id,
        new Dictionary<string, Func<WorkflowSummaryDto, string>>
        {
            ["createdAt"] = w => w.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = w => w.UpdatedAt.UtcDateTime.ToString("O"),
            ["name"] = w => w.Name.ToLowerInvariant(),
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (w, s) => w.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || (w.Description ?? "").Contains(s, StringComparison.OrdinalIgnoreCase),
        Status: w => w.Status);

    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (query.Status is { } status && !WorkflowStatus.IsValid(status.ToUpperInvariant()))
        {
            return Api.Validation("status", "status must be ACTIVE, PAUSED or ARCHIVED.");
        }

        // Archived workflows are kept for the record but stay out of the way unless asked for by status.
        var all = await workflows.ListAsync(workspace.WorkspaceId, cancellationToken);
        var visible = all.Where(w => query.Status is not null || w.Status != WorkflowStatus.Archived).Select(WorkflowSummaryDto.From);
        return Api.Page(Paging.Paginate(visible, query, Shape));
    }
}
