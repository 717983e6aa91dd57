using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Triggers;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Analytics;

/// <summary>
/// Analytics over roll-ups (usage statistics, performance, costs, FlowAtGenAI's dashboard and metrics, exports),
/// alerts, and AutoGPT's platform-wide admin analytics. The raw usage list stays with the models feature
/// (<c>GET /api/v1/analytics/usage</c> without <c>groupBy</c>).
/// </summary>
internal static class AnalyticsFeature
{
    public static IServiceCollection AddAnalytics(this IServiceCollection services)
    {
        services.AddSingleton<AnalyticsReader>();
        services.AddSingleton<IRunCompletionListener, RunAnalytics>();
        services.AddSingleton<AnalyticsExports>();
        services.AddSingleton<AlertStore>();
        services.AddSingleton<AnalyticsRetention>();
        services.AddTriggerFunctions<AnalyticsFunctions>();
        return services;
    }

    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder app)
    {
        var analytics = app.MapGroup("/api/v1/analytics").WithTags("Analytics");
        analytics.MapGet("/performance", (HttpRequest request, WorkspaceContext workspace, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken) =>
                GetPerformance.HandleAsync(workspace.WorkspaceId, request, reader, time, cancellationToken)).WithName("GetAnalyticsPerformance")
            .WithSummary("Run latency p50/p95/p99 and success rate per workflow and app, node latency per type, model latency and time to first token per model (from, to)")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<GetPerformance.Response>().Errors(422);
        analytics.MapGet("/costs", (HttpRequest request, WorkspaceContext workspace, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken) =>
                GetCosts.HandleAsync(workspace.WorkspaceId, GetUsageStatistics.WorkspaceGroups, request, reader, time, cancellationToken)).WithName("GetAnalyticsCosts")
            .WithSummary("Model cost in USD by model, provider, app, workflow, API key and user, with totals (from, to; default the last 30 days)")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<GetCosts.Response>().Errors(422);
        analytics.MapGet("/dashboard", (HttpRequest request, WorkspaceContext workspace, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken) =>
                GetDashboard.HandleAsync(workspace.WorkspaceId, request, reader, time, cancellationToken)).WithName("GetAnalyticsDashboard")
            .WithSummary("FlowAtGenAI KPIs: total_executions, success_rate, avg_latency (ms), savings_estimate (minutes: minutesSavedPerRun × successful runs), plus today's runs, tokens, cost, top workflows (from, to, tz)")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<DashboardView>().Errors(422);
        analytics.MapGet("/metrics", (HttpRequest request, WorkspaceContext workspace, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken) =>
                GetMetrics.HandleAsync(workspace.WorkspaceId, request, reader, time, cancellationToken)).WithName("GetAnalyticsMetrics")
            .WithSummary("A time series [{timestamp, value}] of execution_count, error_rate, latency_p50, latency_p95, tokens or cost (interval=1h|1d|1w, from, to, tz, workflowId)")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<GetMetrics.Response>().Errors(422);
        analytics.MapPost("/export", CreateExport.HandleAsync).WithName("CreateAnalyticsExport")
            .WithSummary("Start an export {kind: usage|runs|costs, format: csv|json, from, to}: 202 with its id; poll GET /api/v1/analytics/exports/{id}")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().WithRateLimitClass(RateLimitClass.Export).Returns<ExportView>(202).Errors(422, 429);
        analytics.MapGet("/exports/{id}", GetExport.HandleAsync).WithName("GetAnalyticsExport")
            .WithSummary("An export's status; once completed, a download link that works without a credential until expiresAt")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<ExportView>().Errors(404);
        analytics.MapGet("/exports/{id}/download", DownloadExport.HandleAsync).WithName("DownloadAnalyticsExport")
            .WithSummary("The export's file, through the signed link GET /api/v1/analytics/exports/{id} returns (403 when invalid or expired)")
            .AllowAnonymous().Produces(200, contentType: "text/csv").Produces(200, contentType: "application/json").Errors(403, 404);

        var alerts = app.MapGroup("/api/v1/alerts").WithTags("Alerts");
        alerts.MapGet("", AlertEndpoints.ListAsync).WithName("ListAlerts").WithSummary("The workspace's alerts with their state (ok or firing) and last value")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<IReadOnlyList<AlertView>>();
        alerts.MapPost("", AlertEndpoints.CreateAsync).WithName("CreateAlert")
            .WithSummary("Create an alert {name, metric, operator: gt|lt, threshold, window: 5m|15m|30m|1h|6h|1d|7d, workflowId?, cooldownMinutes?}; alert.triggered/alert.resolved go to the platform event log")
            .RequireScope(Scopes.AlertsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<AlertView>(201).Errors(403, 409, 422);
        alerts.MapGet("/{id}", AlertEndpoints.GetAsync).WithName("GetAlert").WithSummary("One alert")
            .RequireScope(Scopes.UsageRead).RequireWorkspace().Returns<AlertView>().Errors(404);
        alerts.MapPut("/{id}", AlertEndpoints.UpdateAsync).WithName("UpdateAlert").WithSummary("Change an alert (any subset of the fields); a new condition starts from ok")
            .RequireScope(Scopes.AlertsWrite).RequireWorkspace(WorkspaceRole.Admin).Returns<AlertView>().Errors(403, 404, 422);
        alerts.MapDelete("/{id}", AlertEndpoints.DeleteAsync).WithName("DeleteAlert").WithSummary("Delete an alert")
            .RequireScope(Scopes.AlertsWrite).RequireWorkspace(WorkspaceRole.Admin).Produces(204).Errors(403, 404);

        var admin = app.MapGroup("/api/v1/admin/analytics").WithTags("Admin");
        admin.MapGet("/executions", (HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken) =>
                GetAdminExecutions.HandleAsync(request, reader, time, cancellationToken)).WithName("GetAdminExecutionAnalytics")
            .WithSummary("Platform admins: runs of every workspace (count, success rate, latency, per workspace and node type) over from/to")
            .RequirePlatformAdmin().Returns<GetAdminExecutions.Response>().Errors(403, 422);
        admin.MapGet("/usage", (HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken) =>
                GetUsageStatistics.HandleAsync(AnalyticsRollups.PlatformPartition, GetUsageStatistics.PlatformGroups, request, reader, time, cancellationToken))
            .WithName("GetAdminUsageAnalytics")
            .WithSummary("Platform admins: usage statistics of every workspace (groupBy=hour|day|week|model|provider|workspace)")
            .RequirePlatformAdmin().Returns<GetUsageStatistics.Response>().Errors(403, 422);
        admin.MapGet("/costs", (HttpRequest request, AnalyticsReader reader, TimeProvider time, CancellationToken cancellationToken) =>
                GetCosts.HandleAsync(AnalyticsRollups.PlatformPartition, GetUsageStatistics.PlatformGroups, request, reader, time, cancellationToken))
            .WithName("GetAdminCostAnalytics")
            .WithSummary("Platform admins: model cost of every workspace by model, provider and workspace")
            .RequirePlatformAdmin().Returns<GetCosts.Response>().Errors(403, 422);
        return app;
    }
}
