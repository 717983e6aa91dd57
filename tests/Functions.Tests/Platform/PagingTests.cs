using System.Net;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Platform;

public sealed class PagingTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<TestUser> UserWithKeysAsync(params string[] names)
    {
        var user = await _client.RegisterAsync();
        foreach (var name in names)
        {
            var created = await _client.ApiPostAsync("/api/v1/user/api-keys", new { name, scopes = new[] { "profile:read" } }, user.AccessToken);
            Assert.Equal(HttpStatusCode.Created, created.Status);
        }

        return user;
    }

    [Fact]
    public async Task Cursor_WalkingAllPages_SeesEveryItemOnce()
    {
        var user = await UserWithKeysAsync("a", "b", "c", "d", "e");
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var url = "/api/v1/user/api-keys?limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await _client.ApiGetAsync(url, user.AccessToken);
            Assert.Equal(HttpStatusCode.OK, page.Status);
            seen.AddRange(page.Data.AsArray().Select(k => k!["name"]!.GetValue<string>()));
            var pagination = page.Body!["pagination"]!;
            Assert.Equal(2, pagination["limit"]!.GetValue<int>());
            cursor = pagination["hasMore"]!.GetValue<bool>() ? pagination["nextCursor"]!.GetValue<string>() : null;
        }
        while (cursor is not null);

        Assert.Equal(["a", "b", "c", "d", "e"], seen.Order());
        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public async Task Page_WithPageAndLimit_ReportsTotalAndPage()
    {
        var user = await UserWithKeysAsync("a", "b", "c", "d", "e");

        var page = await _client.ApiGetAsync("/api/v1/user/api-keys?page=3&limit=2&sortBy=name&sortOrder=asc", user.AccessToken);

        Assert.Equal(5, page.Body!["meta"]!["total"]!.GetValue<int>());
        Assert.Equal(3, page.Body["meta"]!["page"]!.GetValue<int>());
        Assert.Equal(["e"], page.Data.AsArray().Select(k => k!["name"]!.GetValue<string>()));
        Assert.False(page.Body["pagination"]!["hasMore"]!.GetValue<bool>());
    }

    [Fact]
    public async Task SortAndSearch_OrderAndFilterTheList()
    {
        var user = await UserWithKeysAsync("beta", "alpha", "gamma", "alphabet");

        var sorted = await _client.ApiGetAsync("/api/v1/user/api-keys?sortBy=name&sortOrder=desc", user.AccessToken);
        var searched = await _client.ApiGetAsync("/api/v1/user/api-keys?search=ALPHA&sortBy=name", user.AccessToken);

        Assert.Equal(["gamma", "beta", "alphabet", "alpha"], sorted.Data.AsArray().Select(k => k!["name"]!.GetValue<string>()));
        Assert.Equal(["alpha", "alphabet"], searched.Data.AsArray().Select(k => k!["name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1000", "limit")]
    [InlineData("page=0", "page")]
    [InlineData("sortBy=secret", "sortBy")]
    [InlineData("sortOrder=sideways", "sortOrder")]
    [InlineData("cursor=%%%", "cursor")]
    public async Task BadListQuery_Is422NamingTheParameter(string query, string field)
    {
        var user = await _client.RegisterAsync();

        var response = await _client.ApiGetAsync("/api/v1/user/api-keys?" + query, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Contains(response.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == field);
    }
}
