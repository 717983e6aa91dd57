using System.Buffers.Text;
using System.Text;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Http;

/// <summary>
/// The list conventions: <c>limit</c> with an opaque <c>cursor</c>, or <c>page</c>+<c>limit</c>; <c>sortBy</c>,
/// <c>sortOrder</c>, <c>search</c>, <c>status</c>. Binds leniently; <see cref="Check"/> reports bad values as 422.
/// </summary>
internal sealed record ListQuery(int Limit, string? Cursor, int? Page, string? SortBy, bool Descending, string? Search, string? Status)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    private IReadOnlyList<FieldError> ParseErrors { get; init; } = [];

    /// <summary>A first page in the list's default order.</summary>
    public static ListQuery Default { get; } = new(DefaultLimit, null, null, null, false, null, null);

    public static ValueTask<ListQuery?> BindAsync(HttpContext context)
    {
        var q = context.Request.Query;
        var errors = new List<FieldError>();
        var limit = ParseInt(q["limit"], "limit", 1, MaxLimit, errors) ?? DefaultLimit;
        var page = ParseInt(q["page"], "page", 1, 1_000_000, errors);
        var order = q["sortOrder"].ToString();
        if (order.Length > 0 && order is not ("asc" or "desc"))
        {
            errors.Add(new FieldError("sortOrder", "sortOrder must be asc or desc."));
        }

        var cursor = NullIfEmpty(q["cursor"]);
        if (cursor is not null && page is not null)
        {
            errors.Add(new FieldError("cursor", "Use either cursor or page, not both."));
        }

        var query = new ListQuery(limit, cursor, page, NullIfEmpty(q["sortBy"]), order == "desc", NullIfEmpty(q["search"]), NullIfEmpty(q["status"]))
        {
            ParseErrors = errors,
        };
        return ValueTask.FromResult<ListQuery?>(query);
    }

    /// <summary>The 422 to return when the query is not acceptable for a list sortable by <paramref name="sortFields"/>.</summary>
    public ErrorResult? Check(params string[] sortFields)
    {
        var errors = ParseErrors.ToList();
        if (SortBy is not null && !sortFields.Contains(SortBy, StringComparer.Ordinal))
        {
            errors.Add(new FieldError("sortBy", $"sortBy must be one of: {string.Join(", ", sortFields)}."));
        }

        if (Cursor is not null && PageCursor.Decode(Cursor) is null)
        {
            errors.Add(new FieldError("cursor", "The cursor is not valid."));
        }

        return errors.Count == 0 ? null : Api.Validation(errors, "The list query is not valid.");
    }

    private static int? ParseInt(string? raw, string field, int min, int max, List<FieldError> errors)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }

        if (int.TryParse(raw, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add(new FieldError(field, $"{field} must be a whole number from {min} to {max}."));
        return null;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

internal sealed record PageResult<T>(IReadOnlyList<T> Items, Pagination Pagination, long? Total, int? PageNumber);

/// <summary>How a list sorts: each sortable field maps an item to an ordinally comparable string key.</summary>
internal sealed record ListShape<T>(
    Func<T, string> Id,
    IReadOnlyDictionary<string, Func<T, string>> SortKeys,
    string DefaultSort,
    bool DefaultDescending,
    Func<T, string, bool>? Matches = null,
    Func<T, string>? Status = null)
{
    public string[] SortFields => [.. SortKeys.Keys];
}

internal static class Paging
{
    /// <summary>
    /// Filters, sorts and pages an in-memory list. The cursor names the last item's (sort key, id), so a page is
    /// stable even when items before it are added or deleted.
    /// </summary>
    public static PageResult<T> Paginate<T>(IEnumerable<T> source, ListQuery query, ListShape<T> shape)
    {
        var items = source;
        if (query.Search is { } search && shape.Matches is { } matches)
        {
            items = items.Where(i => matches(i, search));
        }

        if (query.Status is { } status && shape.Status is { } statusOf)
        {
            items = items.Where(i => string.Equals(statusOf(i), status, StringComparison.OrdinalIgnoreCase));
        }

        var sortKey = shape.SortKeys[query.SortBy ?? shape.DefaultSort];
        var descending = query.SortBy is null ? shape.DefaultDescending : query.Descending;
        var keyed = items.Select(i => (Key: sortKey(i), Id: shape.Id(i), Item: i)).ToList();
        keyed.Sort((a, b) =>
        {
            var c = string.CompareOrdinal(a.Key, b.Key);
            c = c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
            return descending ? -c : c;
        });

        if (query.Page is { } page)
        {
            var slice = keyed.Skip((page - 1) * query.Limit).Take(query.Limit).Select(k => k.Item).ToList();
            var more = page * (long)query.Limit < keyed.Count;
            return new PageResult<T>(slice, new Pagination(more, null, query.Limit), keyed.Count, page);
        }

        var start = 0;
        if (query.Cursor is not null && PageCursor.Decode(query.Cursor) is { } after)
        {
            start = keyed.FindIndex(k =>
            {
                var c = string.CompareOrdinal(k.Key, after.Key);
                c = c != 0 ? c : string.CompareOrdinal(k.Id, after.Id);
                return descending ? c < 0 : c > 0;
            });
            start = start < 0 ? keyed.Count : start;
        }

        var pageItems = keyed.Skip(start).Take(query.Limit).ToList();
        var hasMore = start + pageItems.Count < keyed.Count;
        var next = hasMore ? PageCursor.Encode(pageItems[^1].Key, pageItems[^1].Id) : null;
        return new PageResult<T>([.. pageItems.Select(k => k.Item)], new Pagination(hasMore, next, query.Limit), null, null);
    }
}

/// <summary>
/// A list served from an <see cref="IndexedTable{T}"/>: which order a query without <c>sortBy</c> gets, and which
/// index filter <c>status</c> binds to. Its sortable fields are the index's orders.
/// </summary>
internal sealed record IndexedList<T>(IndexedTable<T> Table, string DefaultOrder, bool DefaultDescending, Func<T, string, bool>? Matches = null, string? StatusFilter = null)
    where T : class
{
    public string[] SortFields => [.. Table.Index.Orders.Keys];
}

/// <summary>What a list request asks beyond the common query: equality filters, a sort-key range, live state.</summary>
internal sealed record ListRequest<T>
{
    /// <summary>Equality filters by index filter name; the first one the index keeps narrows the scan, the rest are checked.</summary>
    public IReadOnlyList<(string Name, string Value)> Filters { get; init; } = [];

    /// <summary>Checks the index cannot make.</summary>
    public Func<T, bool>? Where { get; init; }

    /// <summary>Range of the default order's sort keys [From, To).</summary>
    public (string? From, string? To)? Range { get; init; }

    /// <summary>Maps an item to what the list shows, or null to leave it out.</summary>
    public Func<T, CancellationToken, ValueTask<T?>>? Resolve { get; init; }
}

internal static class IndexedPaging
{
    /// <summary>Most items a <c>page</c>+<c>limit</c> request counts; past it the total is left out and <c>hasMore</c> tells.</summary>
    public const int PageModeCap = 10_000;

    /// <summary>
    /// A page of an indexed list: one range scan of the index rows of the requested order, narrowed by the status (or
    /// another) filter in the store. Search text is checked while scanning, at most a bounded number of rows per page
    /// (a short or empty page with <c>hasMore</c> then says to go on). Null when the cursor does not belong to the list.
    /// </summary>
    public static async Task<PageResult<T>?> PageAsync<T>(
        IndexedList<T> list, string partitionKey, ListQuery query, ListRequest<T>? request, CancellationToken cancellationToken)
        where T : class
    {
        request ??= new ListRequest<T>();
        var index = list.Table.Index;
        var filters = request.Filters.ToList();
        if (query.Status is { } status && list.StatusFilter is { } statusFilter)
        {
            filters.Insert(0, (statusFilter, status));
        }

        var narrowing = filters.FirstOrDefault(f => index.Filters.ContainsKey(f.Name));
        var checks = filters.Where(f => f != narrowing).ToList();
        var where = request.Where;
        Func<T, bool> matches = item =>
            checks.All(c => index.Filters.TryGetValue(c.Name, out var valueOf) && string.Equals(valueOf(item), c.Value, StringComparison.Ordinal))
            && (query.Search is not { } search || list.Matches is not { } match || match(item, search))
            && (where is null || where(item));
        var order = query.SortBy ?? list.DefaultOrder;
        var descending = query.SortBy is null ? list.DefaultDescending : query.Descending;
        var range = order == list.DefaultOrder ? request.Range : null;
        var indexQuery = new IndexQuery<T>
        {
            Order = order,
            Descending = descending,
            Limit = query.Limit,
            Filter = narrowing == default ? null : narrowing,
            From = range?.From,
            To = range?.To,
            Where = matches,
            Resolve = request.Resolve,
        };

        try
        {
            if (query.Page is { } pageNumber)
            {
                var all = await list.Table.ListAsync(partitionKey, indexQuery with { Limit = PageModeCap, ScanLimit = PageModeCap * 2 }, cancellationToken);
                var slice = all.Items.Skip((pageNumber - 1) * query.Limit).Take(query.Limit).ToList();
                var complete = all.Next is null;
                var more = !complete || pageNumber * (long)query.Limit < all.Items.Count;
                return new PageResult<T>(slice, new Pagination(more, null, query.Limit), complete ? all.Items.Count : null, pageNumber);
            }

            var after = query.Cursor is { } cursor ? PageCursor.Decode(cursor)?.Key : null;
            var page = await list.Table.ListAsync(partitionKey, indexQuery with { After = after }, cancellationToken);
            var next = page.Next is { } position ? PageCursor.Encode(position, "") : null;
            return new PageResult<T>(page.Items, new Pagination(next is not null, next, query.Limit), null, null);
        }
        catch (ArgumentException) when (query.Cursor is not null)
        {
            return null;
        }
    }

    /// <summary>The 422 for a cursor that belongs to another list.</summary>
    public static ErrorResult InvalidCursor() => Api.Validation("cursor", "The cursor is not valid.");

    /// <summary>Maps the items of a page.</summary>
    public static PageResult<TOut> Map<TIn, TOut>(this PageResult<TIn> page, Func<TIn, TOut> map) =>
        new([.. page.Items.Select(map)], page.Pagination, page.Total, page.PageNumber);
}

internal static class PageCursor
{
    public static string Encode(string key, string id) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key + "\0" + id));

    public static (string Key, string Id)? Decode(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var split = text.IndexOf('\0', StringComparison.Ordinal);
            return split < 0 ? null : (text[..split], text[(split + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
