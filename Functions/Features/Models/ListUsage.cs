using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Models;

internal static class ListUsage
{
    private static readonly ListShape<UsageDto> Shape = new(
        u => u.Id,
        new Dictionary<string, Func<UsageDto, string>>
        {
            ["createdAt"] = u => u.CreatedAt.UtcDateTime.ToString("O"),
            ["costUsd"] = u => u.CostUsd.ToString("0000000000.00000000", System.Globalization.CultureInfo.InvariantCulture),
            ["totalTokens"] = u => u.TotalTokens.ToString("D10", System.Globalization.CultureInfo.InvariantCulture),
            ["latencyMs"] = u => u.LatencyMs.ToString("D12", System.Globalization.CultureInfo.InvariantCulture),
        },
        "createdAt",
        DefaultDescending: true,
        Matches: (u, s) => u.Model.Contains(s, StringComparison.OrdinalIgnoreCase) || (u.Provider ?? "").Contains(s, StringComparison.OrdinalIgnoreCase),
        Status: u => u.Status);

    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, UsageLedger ledger, HttpRequest request, CancellationToken cancellationToken)
    {
        var q = request.Query;
        var from = UsageQueries.ParseTime(q["from"], "from", out var fromError);
        var to = UsageQueries.ParseTime(q["to"], "to", out var toError);
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        if ((fromError ?? toError) is { } error)
        {
            return Api.Validation([error]);
        }

        var rows = await ledger.ListAsync(workspace.WorkspaceId, from, to, cancellationToken);
        var filtered = rows
            .Where(r => Matches(q["model"], r.Model) && Matches(q["userId"], r.UserId) && Matches(q["apiKeyId"], r.ApiKeyId) && Matches(q["provider"], r.Provider))
            .Select(UsageDto.From);
        return Api.Page(Paging.Paginate(filtered, query, Shape));
    }

    private static bool Matches(string? wanted, string? actual) => string.IsNullOrEmpty(wanted) || string.Equals(wanted, actual, StringComparison.Ordinal);
}

internal static class UsageQueries
{
    public static DateTimeOffset? ParseTime(string? raw, string field, out FieldError? error)
    {
        error = null;
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(raw, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        error = new FieldError(field, $"{field} must be an ISO 8601 date or time.");
        return null;
    }
}
