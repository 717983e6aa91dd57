using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

internal static class ListTasks
{
    private static readonly ListShape<TaskDto> Shape = new(
        t => t.Id,
        new Dictionary<string, Func<TaskDto, string>>
        {
            ["createdAt"] = t => t.CreatedAt.UtcDateTime.ToString("O"),
            ["updatedAt"] = t => t.UpdatedAt.UtcDateTime.ToString("O"),
            // Tasks without a due date sort after every dated one.
            ["dueDate"] = t => t.DueDate?.UtcDateTime.ToString("O") ?? "~",
            ["priority"] = t => TaskValues.Rank(t.Priority).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["name"] = t => t.Name.ToLowerInvariant(),
            ["status"] = t => t.Status,
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (t, s) => t.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || t.Description.Contains(s, StringComparison.OrdinalIgnoreCase),
        Status: t => t.Status);

    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, string? priority, string? tag, string? dueBefore, TaskBoard board, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(query.Status is { } status && !TaskValues.Statuses.Contains(status), "status", $"status must be one of {string.Join(", ", TaskValues.Statuses)}.")
            .When(priority is not null && !TaskValues.Priorities.Contains(priority), "priority", $"priority must be one of {string.Join(", ", TaskValues.Priorities)}.")
            .When(dueBefore is not null && TaskInput.ParseDate(dueBefore) is null, "dueBefore", "dueBefore must be an ISO 8601 date or time.");
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (!check.IsValid)
        {
            return Api.Validation(check.Errors, "The list query is not valid.");
        }

        var before = TaskInput.ParseDate(dueBefore);
        var tasks = (await board.ListAsync(workspace.WorkspaceId, cancellationToken))
            .Where(t => priority is null || t.Priority == priority)
            .Where(t => tag is null || t.Tags.Contains(tag, StringComparer.Ordinal))
            .Where(t => before is null || t.DueDate < before)
            .Select(TaskDto.From);
        return Api.Page(Paging.Paginate(tasks, query, Shape));
    }
}
