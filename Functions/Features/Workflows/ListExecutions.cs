using System.Globalization;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class ListExecutions
{
    /// <summary>Most index rows one request reads; a workspace with more runs lists the newest of them.</summary>
    private const int ScanLimit = 5000;

    private static readonly ListShape<ExecutionSummaryDto> Shape = new(
        e => e.Id,
        new Dictionary<string, Func<ExecutionSummaryDto, string>>
        {
            ["createdAt"] = e => e.CreatedAt.UtcDateTime.ToString("O"),
            ["completedAt"] = e => e.CompletedAt?.UtcDateTime.ToString("O") ?? "",
        },
        "createdAt",
        DefaultDescending: true,
        Status: e => e.Status);

    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, string? workflowId, string? from, string? to, WorkflowEngine engine, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(query.Status is { } s && !ExecutionStatus.All.Contains(s), "status", $"status must be one of {string.Join(", ", ExecutionStatus.All)}.")
            .When(from is not null && !DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _), "from", "from must be an ISO 8601 timestamp.")
            .When(to is not null && !DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _), "to", "to must be an ISO 8601 timestamp.");
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var since = from is null ? DateTimeOffset.MinValue : DateTimeOffset.Parse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var until = to is null ? DateTimeOffset.MaxValue : DateTimeOffset.Parse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var runs = new List<ExecutionSummaryDto>();
        string? token = null;
        var scanned = 0;
        do
        {
            var page = await engine.Index.ListByWorkspaceAsync(workspace.WorkspaceId, token, EntityQuery.MaxTake, cancellationToken);
            foreach (var entry in page.Items.Select(ExecutionIndex.Read))
            {
                if ((workflowId is null || entry.WorkflowId == workflowId) && entry.CreatedAt >= since && entry.CreatedAt <= until)
                {
                    runs.Add(await CurrentAsync(entry, engine, cancellationToken));
                }
            }

            scanned += page.Items.Count;
            token = page.ContinuationToken;
        }
        while (token is not null && scanned < ScanLimit);

        return Api.Page(Paging.Paginate(runs, query, Shape));
    }

    // The index is written when a run starts and ends; in between, the run itself has the live status.
    private static async Task<ExecutionSummaryDto> CurrentAsync(ExecutionSummary entry, WorkflowEngine engine, CancellationToken cancellationToken) =>
        ExecutionStatus.IsTerminal(entry.Status) || (await engine.Store.LoadAsync(entry.Id, cancellationToken))?.Document is not { } run
            ? ExecutionViews.Summary(entry)
            : ExecutionViews.Summary(run);
}
