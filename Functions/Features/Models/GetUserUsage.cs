using System.Text.Json.Serialization;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Models;

/// <summary>ForgeTM's <c>GET /v1/analytics/user/{user_id}</c>, from the gateway's own usage rows, within the caller's workspace.</summary>
internal static class GetUserUsage
{
    internal sealed record Response(
        [property: JsonPropertyName("user_id")] string UserId,
        Period Period,
        [property: JsonPropertyName("total_tokens")] long TotalTokens,
        [property: JsonPropertyName("total_requests")] long TotalRequests,
        [property: JsonPropertyName("total_cost")] decimal TotalCost,
        [property: JsonPropertyName("model_breakdown")] IReadOnlyDictionary<string, ModelUsage> ModelBreakdown);

    internal sealed record Period(DateTimeOffset Start, DateTimeOffset End);

    internal sealed record ModelUsage(long Tokens, long Requests, [property: JsonPropertyName("cost_estimate")] decimal CostEstimate);

    public static async Task<IResult> HandleAsync(
        string userId, Caller caller, WorkspaceContext workspace, UsageLedger ledger, TimeProvider time, HttpRequest request, CancellationToken cancellationToken)
    {
        if (userId != caller.UserId && workspace.Role < WorkspaceRole.Admin)
        {
            return Api.Forbidden("Only workspace admins see other members' usage.");
        }

        var q = request.Query;
        var start = UsageQueries.ParseTime(q["start_date"], "start_date", out var startError);
        var end = UsageQueries.ParseTime(q["end_date"], "end_date", out var endError);
        if ((startError ?? endError) is { } error)
        {
            return Api.BadRequest(error.Message, [error]);
        }

        // ForgeTM's default period is the current month.
        var now = time.GetUtcNow();
        var from = start ?? new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var to = end ?? from.AddMonths(1).AddTicks(-1);
        var model = q["model"].ToString();
        // The user's rows of the period only (the index narrows to them); the model is checked as they are read.
        var rows = await ledger.ReadAsync(workspace.WorkspaceId, from, to.AddTicks(1), ("user", userId), cancellationToken)
            .Where(r => model.Length == 0 || r.Model == model)
            .ToListAsync(cancellationToken);
        var breakdown = rows.GroupBy(r => r.Model, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => new ModelUsage(g.Sum(r => (long)r.TotalTokens), g.LongCount(), g.Sum(r => r.CostUsd)),
            StringComparer.Ordinal);
        return Results.Json(new Response(userId, new Period(from, to), rows.Sum(r => (long)r.TotalTokens), rows.Count, rows.Sum(r => r.CostUsd), breakdown));
    }
}
