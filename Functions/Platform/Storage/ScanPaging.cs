using System.Globalization;
using System.Text.Json;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Storage;

/// <summary>
/// Pages a key-ordered scan of the store (newest-first row keys, a table of one row per partition) without loading it:
/// the cursor is the store's continuation token of a page and how many matches of that page were already returned, so
/// a page stops anywhere and the next one resumes there. A filter is applied while scanning, at most
/// <see cref="MaxScannedRows"/> rows a request (then the page may be short, with a cursor to go on).
/// </summary>
internal static class ScanPaging
{
    public const int MaxScannedRows = 2000;

    // A filtered scan reads bigger store pages than the list's limit: most rows may not match.
    private const int FilteredTake = 200;

    /// <summary>The page, or null when the cursor is not one this list gave out.</summary>
    public static async Task<PageResult<T>?> PageAsync<T>(
        IEntityStore store, string table, EntityQuery query, ListQuery list, Func<T, bool>? where, CancellationToken cancellationToken) where T : class
    {
        var (token, skip) = list.Cursor is { } cursor && PageCursor.Decode(cursor) is { } decoded
            ? (decoded.Key.Length == 0 ? null : decoded.Key,
                int.TryParse(decoded.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var resumeAt) ? resumeAt : 0)
            : (null, 0);
        // page+limit: walk past the earlier pages' matches.
        var toSkip = list.Page is { } page ? (page - 1) * list.Limit : 0;
        var take = where is null && toSkip == 0 ? list.Limit : FilteredTake;
        var items = new List<T>(list.Limit);
        var scanned = 0;
        while (true)
        {
            EntityPage result;
            try
            {
                result = await store.QueryAsync(table, query with { Take = take, ContinuationToken = token }, cancellationToken);
            }
            catch (ArgumentException) when (token is not null)
            {
                // A cursor's token that the store cannot read was not written by it.
                return null;
            }

            var used = 0;
            var matched = 0;
            foreach (var entity in result.Items)
            {
                used++;
                var item = JsonSerializer.Deserialize<T>(entity.Json, EntityTable<T>.Json)!;
                if (where is not null && !where(item))
                {
                    continue;
                }

                if (matched++ < skip)
                {
                    continue;
                }

                if (toSkip > 0)
                {
                    toSkip--;
                    continue;
                }

                items.Add(item);
                if (items.Count == list.Limit)
                {
                    break;
                }
            }

            scanned += result.Items.Count;
            var pageDone = used == result.Items.Count;
            if (items.Count == list.Limit)
            {
                // Full: the next page resumes in this store page unless it was used up.
                var next = pageDone ? result.ContinuationToken is null ? null : Cursor(result.ContinuationToken, 0) : Cursor(token, matched);
                return Result(items, next, list);
            }

            if (result.ContinuationToken is null)
            {
                return Result(items, null, list);
            }

            token = result.ContinuationToken;
            skip = 0;
            if (scanned >= MaxScannedRows)
            {
                return Result(items, Cursor(token, 0), list);
            }
        }
    }

    private static string Cursor(string? token, int matched) => PageCursor.Encode(token ?? "", matched.ToString(CultureInfo.InvariantCulture));

    private static PageResult<T> Result<T>(List<T> items, string? next, ListQuery list) =>
        list.Page is { } page
            ? new PageResult<T>(items, new Pagination(next is not null, null, list.Limit), null, page)
            : new PageResult<T>(items, new Pagination(next is not null, next, list.Limit), null, null);
}
