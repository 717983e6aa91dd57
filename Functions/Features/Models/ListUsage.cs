using System.Globalization;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Models;

internal static class ListUsage
{
    /// <summary>Most rows a sort other than createdAt orders in memory; a range holding more asks for a narrower one.</summary>
    public const int MaxSortedRows = IndexedPaging.PageModeCap;

    // Orders the index does not keep: the list sorts the rows of the asked range (and filters) in memory.
    private static readonly Dictionary<string, Func<UsageRecord, string>> SortedInMemory = new(StringComparer.Ordinal)
    {
        ["costUsd"] = u => u.CostUsd.ToString("0000000000.00000000", CultureInfo.InvariantCulture),
        ["totalTokens"] = u => u.TotalTokens.ToString("D10", CultureInfo.InvariantCulture),
        ["latencyMs"] = u => u.LatencyMs.ToString("D12", CultureInfo.InvariantCulture),
    };

    /// <summary>With <c>groupBy</c>: aggregated statistics (see <see cref="Analytics.GetUsageStatistics"/>); without: the rows.</summary>
    public static async Task<IResult> HandleAsync(
        WorkspaceContext workspace, ListQuery query, UsageLedger ledger, HttpRequest request, Analytics.AnalyticsReader analytics, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var q = request.Query;
        if (q.ContainsKey("groupBy"))
        {
            return await Analytics.GetUsageStatistics.HandleAsync(workspace.WorkspaceId, Analytics.GetUsageStatistics.WorkspaceGroups, request, analytics, time, cancellationToken);
        }

        var from = UsageQueries.ParseTime(q["from"], "from", out var fromError);
        var to = UsageQueries.ParseTime(q["to"], "to", out var toError);
        if (query.Check([.. ledger.List.SortFields, .. SortedInMemory.Keys]) is { } invalid)
        {
            return invalid;
        }

        if ((fromError ?? toError) is { } error)
        {
            return Api.Validation([error]);
        }

        var filters = new List<(string Name, string Value)>();
        foreach (var (parameter, filter) in new[] { ("model", "model"), ("userId", "user"), ("apiKeyId", "apiKey") })
        {
            if (!string.IsNullOrEmpty(q[parameter]))
            {
                filters.Add((filter, q[parameter].ToString()));
            }
        }

        var provider = q["provider"].ToString();
        var listRequest = new ListRequest<UsageRecord>
        {
            Filters = filters,
            // The provider is not an index filter: it is checked while the rows are read.
            Where = provider.Length == 0 ? null : u => string.Equals(u.Provider, provider, StringComparison.Ordinal),
            Range = (from is { } f ? UsageLedger.SortKey(f) : null, to is { } t ? UsageLedger.SortKey(t) : null),
        };
        // Statuses are stored lowercase; status matched them ignoring case before they were indexed.
        var listQuery = query with { Status = query.Status?.ToLowerInvariant() };
        if (query.SortBy is { } sortBy && SortedInMemory.TryGetValue(sortBy, out var sortKey))
        {
            return await SortedAsync(workspace.WorkspaceId, listQuery, sortBy, sortKey, ledger, listRequest, cancellationToken);
        }

        return await ledger.PageAsync(workspace.WorkspaceId, listQuery, listRequest, cancellationToken) is { } page
            ? Api.Page(page.Map(UsageDto.From))
            : IndexedPaging.InvalidCursor();
    }

    /// <summary>
    /// A page of the list in an order the index does not keep: every row of the range and filters (at most
    /// <see cref="MaxSortedRows"/>, read newest first from the index) sorted by (key, id). The cursor names the last
    /// row's key and id, prefixed by the order, so a cursor of another list is refused.
    /// </summary>
    private static async Task<IResult> SortedAsync(
        string workspaceId, ListQuery query, string sortBy, Func<UsageRecord, string> sortKey, UsageLedger ledger, ListRequest<UsageRecord> request,
        CancellationToken cancellationToken)
    {
        var position = $"{sortBy}.{(query.Descending ? 'd' : 'a')}|";
        var after = query.Cursor is { } cursor ? PageCursor.Decode(cursor) : null;
        if (after is { } a && !a.Key.StartsWith(position, StringComparison.Ordinal))
        {
            return IndexedPaging.InvalidCursor();
        }

        var all = await ledger.PageAsync(workspaceId, query with { SortBy = null, Cursor = null, Page = 1, Limit = MaxSortedRows }, request, cancellationToken);
        if (all?.Total is null)
        {
            return Api.Validation("sortBy", $"sortBy={sortBy} orders at most {MaxSortedRows} rows: narrow from/to or filter the list.");
        }

        var keyed = all.Items.Select(u => (Key: position + sortKey(u), u.Id, Row: u)).ToList();
        var sign = query.Descending ? -1 : 1;
        int Compare(string key, string id, string otherKey, string otherId)
        {
            var c = string.CompareOrdinal(key, otherKey);
            return sign * (c != 0 ? c : string.CompareOrdinal(id, otherId));
        }

        keyed.Sort((x, y) => Compare(x.Key, x.Id, y.Key, y.Id));
        if (query.Page is { } pageNumber)
        {
            var slice = keyed.Skip((pageNumber - 1) * query.Limit).Take(query.Limit).Select(k => UsageDto.From(k.Row)).ToList();
            return Api.Page(new PageResult<UsageDto>(slice, new Pagination(pageNumber * (long)query.Limit < keyed.Count, null, query.Limit), keyed.Count, pageNumber));
        }

        var start = after is { } last ? keyed.FindIndex(k => Compare(k.Key, k.Id, last.Key, last.Id) > 0) : 0;
        var items = keyed.Skip(start < 0 ? keyed.Count : start).Take(query.Limit).ToList();
        var more = start >= 0 && start + items.Count < keyed.Count;
        var next = more ? PageCursor.Encode(items[^1].Key, items[^1].Id) : null;
        return Api.Page(new PageResult<UsageDto>([.. items.Select(k => UsageDto.From(k.Row))], new Pagination(more, next, query.Limit), null, null));
    }
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
