using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

internal static class ListTasks
{
    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, string? priority, string? tag, string? dueBefore, TaskBoard board, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(query.Status is { } status && !TaskValues.Statuses.Contains(status), "status", $"status must be one of {string.Join(", ", TaskValues.Statuses)}.")
            .When(priority is not null && !TaskValues.Priorities.Contains(priority), "priority", $"priority must be one of {string.Join(", ", TaskValues.Priorities)}.")
            .When(dueBefore is not null && TaskInput.ParseDate(dueBefore) is null, "dueBefore", "dueBefore must be an ISO 8601 date or time.");
        if (query.Check(board.List.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (!check.IsValid)
        {
            return Api.Validation(check.Errors, "The list query is not valid.");
        }

        var before = TaskInput.ParseDate(dueBefore);
        var request = new ListRequest<TaskRecord>
        {
            Filters = priority is null ? [] : [("priority", priority)],
            Where = t => (tag is null || t.Tags.Contains(tag, StringComparer.Ordinal)) && (before is null || t.DueDate < before),
        };
        return await IndexedPaging.PageAsync(board.List, workspace.WorkspaceId, query, request, cancellationToken) is { } page
            ? Api.Page(page.Map(TaskDto.From))
            : IndexedPaging.InvalidCursor();
    }
}
