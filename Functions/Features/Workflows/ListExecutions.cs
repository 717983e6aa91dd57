using System.Globalization;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class ListExecutions
{
    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, string? workflowId, string? from, string? to, WorkflowRuns runs, CancellationToken cancellationToken)
    {
        var list = new IndexedList<ExecutionSummary>(runs.Index.Runs, "createdAt", DefaultDescending: true);
        var check = new Validator()
            .When(query.Status is { } s && !ExecutionStatus.All.Contains(s), "status", $"status must be one of {string.Join(", ", ExecutionStatus.All)}.")
            .When(from is not null && !DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _), "from", "from must be an ISO 8601 timestamp.")
            .When(to is not null && !DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _), "to", "to must be an ISO 8601 timestamp.");
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (!check.IsValid)
        {
            return check.ToResult();
        }

        DateTimeOffset? since = from is null ? null : DateTimeOffset.Parse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        DateTimeOffset? until = to is null ? null : DateTimeOffset.Parse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var status = query.Status;
        // Runs that have not ended share one filter value; their live status is checked against the run itself.
        var filters = new List<(string, string)>();
        if (status is not null && !ExecutionStatus.IsTerminal(status))
        {
            filters.Add(("status", ExecutionIndex.Active));
        }

        if (workflowId is not null)
        {
            filters.Add(("workflow", workflowId));
        }

        if (status is not null && ExecutionStatus.IsTerminal(status))
        {
            filters.Add(("status", status));
        }

        var request = new ListRequest<ExecutionSummary>
        {
            Filters = filters,
            // "to" includes its instant; the range's end is exclusive.
            Range = (since is { } f ? ExecutionIndex.SortKey(f) : null, until is { } t ? ExecutionIndex.SortKey(t.AddTicks(1)) : null),
            Resolve = (entry, ct) => CurrentAsync(entry, runs, ct),
            Where = e => (status is null || e.Status == status) && (since is null || e.CreatedAt >= since) && (until is null || e.CreatedAt <= until),
        };
        return await IndexedPaging.PageAsync(list, workspace.WorkspaceId, query with { Status = null }, request, cancellationToken) is { } page
            ? Api.Page(page.Map(ExecutionViews.Summary))
            : IndexedPaging.InvalidCursor();
    }

    // The index is written when a run starts, ends or is retried; in between, the run itself has the live status.
    private static async ValueTask<ExecutionSummary?> CurrentAsync(ExecutionSummary entry, WorkflowRuns runs, CancellationToken cancellationToken) =>
        ExecutionStatus.IsTerminal(entry.Status) || (await runs.Store.LoadAsync(entry.Id, cancellationToken))?.Document is not { } run
            ? entry
            : new ExecutionSummary(run.Id, run.WorkflowId, run.Version, run.Status, run.CreatedAt, run.CompletedAt);
}
