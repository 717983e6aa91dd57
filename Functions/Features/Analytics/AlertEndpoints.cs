using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Analytics;

/// <summary>An alert as shown.</summary>
internal sealed record AlertView(
    string Id, string Name, string Metric, string Operator, double Threshold, string Window, string? WorkflowId, bool Enabled, int CooldownMinutes,
    string State, double? LastValue, DateTimeOffset? LastEvaluatedAt, DateTimeOffset? LastTriggeredAt, DateTimeOffset? LastResolvedAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static AlertView From(AlertRecord a) => new(a.Id, a.Name, a.Metric, a.Operator, a.Threshold, a.Window, a.WorkflowId, a.Enabled, a.CooldownMinutes,
        a.State, a.LastValue, a.LastEvaluatedAt, a.LastTriggeredAt, a.LastResolvedAt, a.CreatedAt, a.UpdatedAt);
}

/// <summary>The body of create (every field but the optional ones required) and update (any subset).</summary>
internal sealed record AlertRequest(
    string? Name, string? Metric, string? Operator, double? Threshold, string? Window, string? WorkflowId, bool? Enabled, int? CooldownMinutes);

internal static class AlertEndpoints
{
    public const int DefaultCooldownMinutes = 60;

    public static async Task<IResult> ListAsync(WorkspaceContext workspace, AlertStore alerts, CancellationToken cancellationToken) =>
        Api.Ok((await alerts.ListAsync(workspace.WorkspaceId, cancellationToken)).Select(AlertView.From).ToList());

    public static async Task<IResult> GetAsync(string id, WorkspaceContext workspace, AlertStore alerts, CancellationToken cancellationToken) =>
        await alerts.GetAsync(workspace.WorkspaceId, id, cancellationToken) is { } alert ? Api.Ok(AlertView.From(alert)) : Api.NotFound("The alert was not found.");

    public static async Task<IResult> CreateAsync(
        AlertRequest request, Caller caller, WorkspaceContext workspace, AlertStore alerts, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = Check(request, creating: true);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var now = time.GetUtcNow();
        var alert = new AlertRecord(AlertStore.NewId(), workspace.WorkspaceId, request.Name!.Trim(), request.Metric!, request.Operator!, request.Threshold!.Value,
            request.Window!, Blank(request.WorkflowId), request.Enabled ?? true, request.CooldownMinutes ?? DefaultCooldownMinutes, AlertState.Ok,
            null, null, null, null, 0, caller.UserId, now, now);
        return await alerts.CreateAsync(alert, cancellationToken) is { } created
            ? Api.Created(AlertView.From(created), $"/api/v1/alerts/{created.Id}")
            : Api.Conflict($"A workspace may have at most {AlertStore.MaxPerWorkspace} alerts.");
    }

    public static async Task<IResult> UpdateAsync(
        string id, AlertRequest request, WorkspaceContext workspace, AlertStore alerts, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = Check(request, creating: false);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var updated = await alerts.UpdateAsync(workspace.WorkspaceId, id, a =>
        {
            var changed = a with
            {
                Name = request.Name?.Trim() ?? a.Name,
                Metric = request.Metric ?? a.Metric,
                Operator = request.Operator ?? a.Operator,
                Threshold = request.Threshold ?? a.Threshold,
                Window = request.Window ?? a.Window,
                WorkflowId = request.WorkflowId is null ? a.WorkflowId : Blank(request.WorkflowId),
                Enabled = request.Enabled ?? a.Enabled,
                CooldownMinutes = request.CooldownMinutes ?? a.CooldownMinutes,
                UpdatedAt = time.GetUtcNow(),
            };
            // A new condition starts from a clean state; a firing alert that is changed resolves silently.
            var sameCondition = changed.Metric == a.Metric && changed.Operator == a.Operator && changed.Threshold.Equals(a.Threshold)
                && changed.Window == a.Window && changed.WorkflowId == a.WorkflowId;
            return sameCondition ? changed : changed with { State = AlertState.Ok, LastValue = null };
        }, cancellationToken);
        return updated is null ? Api.NotFound("The alert was not found.") : Api.Ok(AlertView.From(updated));
    }

    public static async Task<IResult> DeleteAsync(string id, WorkspaceContext workspace, AlertStore alerts, CancellationToken cancellationToken) =>
        await alerts.DeleteAsync(workspace.WorkspaceId, id, cancellationToken) ? Api.NoContent() : Api.NotFound("The alert was not found.");

    private static Validator Check(AlertRequest request, bool creating)
    {
        var check = new Validator();
        if (creating)
        {
            check.Require("name", request.Name, 200)
                .When(request.Metric is null, "metric", "metric is required.")
                .When(request.Operator is null, "operator", "operator is required (gt or lt).")
                .When(request.Threshold is null, "threshold", "threshold is required.")
                .When(request.Window is null, "window", "window is required.");
        }
        else
        {
            check.When(request.Name is not null && string.IsNullOrWhiteSpace(request.Name), "name", "name cannot be empty.").MaxLength("name", request.Name, 200);
        }

        return check
            .When(request.Metric is not null && !GetMetrics.Types.ContainsKey(request.Metric), "metric", $"metric must be one of {string.Join(", ", GetMetrics.Types.Keys)}.")
            .When(request.Operator is not null and not ("gt" or "lt"), "operator", "operator must be gt or lt.")
            .When(request.Threshold is { } t && !double.IsFinite(t), "threshold", "threshold must be a finite number.")
            .When(request.Window is not null && !AlertStore.Windows.ContainsKey(request.Window), "window", $"window must be one of {string.Join(", ", AlertStore.Windows.Keys)}.")
            .When(request.CooldownMinutes is < 0 or > 10_080, "cooldownMinutes", "cooldownMinutes must be between 0 and 10080.")
            .MaxLength("workflowId", request.WorkflowId, 200);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
