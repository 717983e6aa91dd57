using System.Text.Json.Nodes;

namespace Serverless.Functions.Tests.Support;

/// <summary>Reads a cursor-paged list to its end, the way a client does.</summary>
public static class Pages
{
    /// <summary>Every item of the list at <paramref name="url"/> (a query string included), one page per request.</summary>
    public static async Task<List<JsonNode>> ReadAllAsync(this HttpClient client, string url, string token, int maxPages = 100)
    {
        var items = new List<JsonNode>();
        string? cursor = null;
        for (var page = 0; page < maxPages; page++)
        {
            var response = await client.ApiGetAsync(cursor is null ? url : $"{url}&cursor={Uri.EscapeDataString(cursor)}", token);
            items.AddRange(response.Data.AsArray().Select(i => i!));
            var pagination = response.Body!["pagination"]!;
            if (!pagination["hasMore"]!.GetValue<bool>())
            {
                return items;
            }

            cursor = pagination["nextCursor"]!.GetValue<string>();
        }

        throw new InvalidOperationException($"{url} did not end within {maxPages} pages.");
    }

    /// <summary>The string <paramref name="field"/> of each item.</summary>
    public static List<string> Field(this IEnumerable<JsonNode> items, string field) => [.. items.Select(i => i[field]!.GetValue<string>())];
}
