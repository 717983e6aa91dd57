using System.Net;
using System.Text.Json.Nodes;

namespace Serverless.Functions.Tests.Support;

/// <summary>Walking a list's pages the way a client does.</summary>
public static class Lists
{
    /// <summary>Every item of the list at <paramref name="url"/>, page by page by cursor; each page holds at most <paramref name="limit"/>.</summary>
    public static Task<List<JsonNode>> WalkAsync(this HttpClient client, string url, int limit, string? token = null, IDictionary<string, string>? headers = null) =>
        client.ReadAllAsync(PageUrl(url, limit, null), token, headers, limit);

    /// <summary>Every item of the list at <paramref name="url"/> (its query string, limit included, kept on every page), one page per request.</summary>
    public static async Task<List<JsonNode>> ReadAllAsync(
        this HttpClient client, string url, string? token, IDictionary<string, string>? headers = null, int? limit = null)
    {
        var items = new List<JsonNode>();
        string? cursor = null;
        for (var pages = 0; pages < 200; pages++)
        {
            var page = await client.ApiGetAsync(cursor is null ? url : $"{url}&cursor={Uri.EscapeDataString(cursor)}", token, headers);
            Assert.True(page.Status == HttpStatusCode.OK, page.Body?.ToJsonString());
            var data = page.Data.AsArray();
            Assert.True(limit is null || data.Count <= limit, $"a page of {data.Count} items over a limit of {limit}");
            items.AddRange(data.Select(n => n!));
            var pagination = page.Body!["pagination"]!;
            if (!pagination["hasMore"]!.GetValue<bool>())
            {
                return items;
            }

            cursor = pagination["nextCursor"]!.GetValue<string>();
        }

        throw new InvalidOperationException($"{url} did not end within 200 pages.");
    }

    /// <summary>The string <paramref name="field"/> of each item.</summary>
    public static List<string> Field(this IEnumerable<JsonNode> items, string field) => [.. items.Select(i => i[field]!.GetValue<string>())];

    /// <summary>The cursor after the first page of <paramref name="limit"/> items of the list at <paramref name="url"/>.</summary>
    public static async Task<string> CursorAsync(this HttpClient client, string url, int limit, string? token = null, IDictionary<string, string>? headers = null)
    {
        var page = await client.ApiGetAsync(PageUrl(url, limit, null), token, headers);
        Assert.True(page.Status == HttpStatusCode.OK, page.Body?.ToJsonString());
        return page.Body!["pagination"]!["nextCursor"]!.GetValue<string>();
    }

    /// <summary>The list at <paramref name="url"/> asked to go on from <paramref name="cursor"/>.</summary>
    public static Task<ApiResponse> PageAfterAsync(this HttpClient client, string url, string cursor, string? token = null, IDictionary<string, string>? headers = null) =>
        client.ApiGetAsync(PageUrl(url, 1, cursor), token, headers);

    private static string PageUrl(string url, int limit, string? cursor) =>
        url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "limit=" + limit + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
}
