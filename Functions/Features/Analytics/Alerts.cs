using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Analytics;

internal static class AlertState
{
    public const string Ok = "ok";
    public const string Firing = "firing";
}

/// <summary>A threshold on a metric over a trailing window, and where its evaluation stands.</summary>
internal sealed record AlertRecord(
    string Id, string WorkspaceId, string Name, string Metric, string Operator, double Threshold, string Window, string? WorkflowId,
    bool Enabled, int CooldownMinutes, string State, double? LastValue, DateTimeOffset? LastEvaluatedAt, DateTimeOffset? LastTriggeredAt,
    DateTimeOffset? LastResolvedAt, int Transitions, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Alerts (FlowAtGenAI <c>alert.triggered</c>): stored per workspace; a timer evaluates every enabled alert on the
/// roll-ups of its trailing window (five-minute cells up to six hours, hour cells beyond). Crossing the threshold
/// appends <c>alert.triggered</c> to the platform event log (webhooks deliver it), unless the alert fired less than
/// its cooldown ago; falling back appends <c>alert.resolved</c>. A window without runs has no error rate or latency,
/// which never breaches. Event ids count the alert's transitions, so an evaluation repeated by an at-least-once timer
/// records each transition once.
/// </summary>
internal sealed class AlertStore(IEntityStore store, AnalyticsRollups rollups, PlatformEventLog events, TimeProvider time, ILogger<AlertStore> logger)
{
    public const int MaxPerWorkspace = 100;

    public static readonly IReadOnlyDictionary<string, TimeSpan> Windows = new Dictionary<string, TimeSpan>(StringComparer.Ordinal)
    {
        ["5m"] = TimeSpan.FromMinutes(5), ["15m"] = TimeSpan.FromMinutes(15), ["30m"] = TimeSpan.FromMinutes(30), ["1h"] = TimeSpan.FromHours(1),
        ["6h"] = TimeSpan.FromHours(6), ["1d"] = TimeSpan.FromDays(1), ["7d"] = TimeSpan.FromDays(7),
    };

    private readonly EntityTable<AlertRecord> _alerts = new(store, "alerts");

    public async Task<List<AlertRecord>> ListAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var alerts = new List<AlertRecord>();
        await foreach (var row in _alerts.QueryAllAsync(new EntityQuery { PartitionKey = workspaceId, Take = MaxPerWorkspace }, cancellationToken))
        {
            alerts.Add(row.Value);
        }

        return [.. alerts.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal)];
    }

    public async Task<AlertRecord?> GetAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        (await _alerts.FindAsync(workspaceId, id, cancellationToken))?.Value;

    public async Task<AlertRecord?> CreateAsync(AlertRecord alert, CancellationToken cancellationToken)
    {
        if ((await ListAsync(alert.WorkspaceId, cancellationToken)).Count >= MaxPerWorkspace)
        {
            return null;
        }

        await _alerts.InsertAsync(alert.WorkspaceId, alert.Id, alert, cancellationToken);
        return alert;
    }

    public async Task<AlertRecord?> UpdateAsync(string workspaceId, string id, Func<AlertRecord, AlertRecord?> change, CancellationToken cancellationToken) =>
        (await _alerts.UpdateAsync(workspaceId, id, change, cancellationToken))?.Value;

    public async Task<bool> DeleteAsync(string workspaceId, string id, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(id) && (await _alerts.DeleteAsync(workspaceId, id, null, cancellationToken)).Succeeded;

    /// <summary>Evaluates every enabled alert of every workspace; returns how many changed state.</summary>
    public async Task<int> EvaluateAllAsync(CancellationToken cancellationToken)
    {
        var changed = 0;
        var all = new List<AlertRecord>();
        await foreach (var row in _alerts.QueryAllAsync(new EntityQuery { Take = EntityQuery.MaxTake }, cancellationToken))
        {
            all.Add(row.Value);
        }

        foreach (var alert in all.Where(a => a.Enabled))
        {
            try
            {
                changed += await EvaluateAsync(alert, cancellationToken) ? 1 : 0;
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                AnalyticsLog.AlertFailed(logger, exception, alert.Id);
            }
        }

        return changed;
    }

    /// <summary>The metric's value over the alert's window ending now (null: undefined, e.g. no runs).</summary>
    public async Task<double?> ValueAsync(AlertRecord alert, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var window = Windows[alert.Window];
        var granularity = window <= TimeSpan.FromHours(6) ? Granularity.FiveMinutes : Granularity.Hour;
        var dimension = alert.WorkflowId is null ? Dimensions.All : Dimensions.Workflow;
        var rows = await rollups.ReadValueAsync(alert.WorkspaceId, dimension, alert.WorkflowId ?? "", granularity, now - window, now, cancellationToken);
        return GetMetrics.Types[alert.Metric](RollupCell.Sum(rows.Select(r => r.Cell)));
    }

    private async Task<bool> EvaluateAsync(AlertRecord alert, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var value = await ValueAsync(alert, cancellationToken);
        var breached = value is { } v && (alert.Operator == "gt" ? v > alert.Threshold : v < alert.Threshold);
        var cooling = alert.LastTriggeredAt is { } last && now - last < TimeSpan.FromMinutes(alert.CooldownMinutes);
        string? transition = (alert.State, breached) switch
        {
            (AlertState.Ok, true) when !cooling => PlatformEventTypes.AlertTriggered,
            (AlertState.Firing, false) => PlatformEventTypes.AlertResolved,
            _ => null,
        };

        // Another evaluation that moved the alert first wins; this one then records nothing.
        var updated = await UpdateAsync(alert.WorkspaceId, alert.Id, a => a.Transitions != alert.Transitions ? null : transition is null
            ? a with { LastValue = value, LastEvaluatedAt = now }
            : a with
            {
                LastValue = value,
                LastEvaluatedAt = now,
                State = transition == PlatformEventTypes.AlertTriggered ? AlertState.Firing : AlertState.Ok,
                LastTriggeredAt = transition == PlatformEventTypes.AlertTriggered ? now : a.LastTriggeredAt,
                LastResolvedAt = transition == PlatformEventTypes.AlertResolved ? now : a.LastResolvedAt,
                Transitions = a.Transitions + 1,
            }, cancellationToken);
        if (transition is null || updated is null || updated.Transitions != alert.Transitions + 1)
        {
            return false;
        }

        AnalyticsLog.AlertTransition(logger, alert.Id, transition, alert.Metric, value ?? double.NaN, alert.Threshold);
        await events.AppendOnceAsync(alert.WorkspaceId, $"{transition}:{alert.Id}:{updated.Transitions}", transition, new JsonObject
        {
            ["alertId"] = alert.Id,
            ["name"] = alert.Name,
            ["metric"] = alert.Metric,
            ["operator"] = alert.Operator,
            ["threshold"] = alert.Threshold,
            ["window"] = alert.Window,
            ["workflowId"] = alert.WorkflowId,
            ["value"] = value,
            ["at"] = now,
        }, cancellationToken);
        return true;
    }

    public static string NewId() => Secrets.NewId("alert");
}
