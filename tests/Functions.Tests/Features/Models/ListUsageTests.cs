using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Features.Models;

/// <summary>The usage list pages in the store: newest first from index rows, narrowed by status, model, user and key.</summary>
public sealed class ListUsageTests(PlatformFactory factory) : IClassFixture<PlatformFactory>
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _client = factory.CreateClient();

    /// <summary>Twelve calls a minute apart: models alternate a/b, every third failed, costs and tokens out of time order.</summary>
    private async Task<(TestUser User, List<UsageRecord> Rows)> UserWithUsageAsync()
    {
        var user = await _client.RegisterAsync();
        var rows = Enumerable.Range(0, 12).Select(i => new UsageRecord(
            $"u{i:D2}{Guid.NewGuid():N}", user.PersonalWorkspaceId, i % 4 == 0 ? "usr_other" : user.Id, i % 5 == 0 ? "key_1" : null,
            i % 2 == 0 ? "model-a" : "model-b", i % 3 == 0 ? "backup" : "primary", "chat", false,
            10, (i * 7) % 12, 10 + (i * 7) % 12, (i * 5 % 12) / 100m, 1000 - i * 13 % 9, null,
            i % 3 == 2 ? UsageStatus.Error : UsageStatus.Ok, "api", Start.AddMinutes(i))).ToList();
        var ledger = factory.Services.GetRequiredService<UsageLedger>();
        foreach (var row in rows)
        {
            ledger.Record(row);
        }

        await _client.WaitForUsageAsync(user.AccessToken, rows.Count);
        return (user, rows);
    }

    private static List<string> Ids(IEnumerable<System.Text.Json.Nodes.JsonNode> listed) => [.. listed.Select(r => r["id"]!.GetValue<string>())];

    [Fact]
    public async Task List_SeveralPagesOfASmallLimit_AreCompleteAndNewestFirst_OrOldestFirst()
    {
        var (user, rows) = await UserWithUsageAsync();

        var newestFirst = await _client.WalkAsync("/api/v1/analytics/usage", 5, user.AccessToken);
        var oldestFirst = await _client.WalkAsync("/api/v1/analytics/usage?sortBy=createdAt&sortOrder=asc", 5, user.AccessToken);

        Assert.Equal(rows.Select(r => r.Id).Reverse(), Ids(newestFirst));
        Assert.Equal(rows.Select(r => r.Id), Ids(oldestFirst));
    }

    [Fact]
    public async Task List_FiltersAndTimeRange_NarrowThePages()
    {
        var (user, rows) = await UserWithUsageAsync();
        var from = Uri.EscapeDataString(Start.AddMinutes(3).ToString("O"));
        var to = Uri.EscapeDataString(Start.AddMinutes(9).ToString("O"));

        var failedOfA = await _client.WalkAsync("/api/v1/analytics/usage?model=model-a&status=ERROR", 2, user.AccessToken);
        var mineInRange = await _client.WalkAsync($"/api/v1/analytics/usage?userId={user.Id}&from={from}&to={to}", 2, user.AccessToken);
        var ofKeyOnBackup = await _client.WalkAsync("/api/v1/analytics/usage?apiKeyId=key_1&provider=backup", 2, user.AccessToken);
        var searched = await _client.WalkAsync("/api/v1/analytics/usage?search=MODEL-B&status=ok", 2, user.AccessToken);

        Assert.Equal(rows.Where(r => r.Model == "model-a" && r.Status == "error").Select(r => r.Id).Reverse(), Ids(failedOfA));
        Assert.Equal(rows.Where(r => r.UserId == user.Id && r.CreatedAt >= Start.AddMinutes(3) && r.CreatedAt < Start.AddMinutes(9)).Select(r => r.Id).Reverse(), Ids(mineInRange));
        Assert.Equal(rows.Where(r => r.ApiKeyId == "key_1" && r.Provider == "backup").Select(r => r.Id).Reverse(), Ids(ofKeyOnBackup));
        Assert.Equal(rows.Where(r => r.Model == "model-b" && r.Status == "ok").Select(r => r.Id).Reverse(), Ids(searched));
    }

    [Theory]
    [InlineData("costUsd")]
    [InlineData("totalTokens")]
    [InlineData("latencyMs")]
    public async Task List_SortedByAMeasure_PagesEveryRowOnceInThatOrder(string sortBy)
    {
        var (user, rows) = await UserWithUsageAsync();
        Func<UsageRecord, decimal> measure = sortBy switch
        {
            "costUsd" => r => r.CostUsd,
            "totalTokens" => r => r.TotalTokens,
            _ => r => r.LatencyMs,
        };

        var descending = await _client.WalkAsync($"/api/v1/analytics/usage?sortBy={sortBy}&sortOrder=desc", 5, user.AccessToken);
        var ofModelA = await _client.WalkAsync($"/api/v1/analytics/usage?sortBy={sortBy}&model=model-a", 2, user.AccessToken);
        var page = await _client.ApiGetAsync($"/api/v1/analytics/usage?sortBy={sortBy}&page=3&limit=5", user.AccessToken);

        var ascending = rows.OrderBy(measure).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(Enumerable.Reverse(ascending).Select(r => r.Id), Ids(descending));
        Assert.Equal(ascending.Where(r => r.Model == "model-a").Select(r => r.Id), Ids(ofModelA));
        Assert.Equal(ascending.Skip(10).Select(r => r.Id), Ids(page.Data.AsArray().Select(n => n!)));
        Assert.Equal(12, page.Body!["meta"]!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task List_CursorOfAnotherOrder_Is422()
    {
        var (user, _) = await UserWithUsageAsync();

        var newest = await _client.CursorAsync("/api/v1/analytics/usage", 2, user.AccessToken);
        var byCost = await _client.CursorAsync("/api/v1/analytics/usage?sortBy=costUsd", 2, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.PageAfterAsync("/api/v1/analytics/usage?sortBy=costUsd", newest, user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.PageAfterAsync("/api/v1/analytics/usage?sortBy=costUsd&sortOrder=desc", byCost, user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.PageAfterAsync("/api/v1/analytics/usage", byCost, user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.PageAfterAsync("/api/v1/analytics/usage?model=model-a", newest, user.AccessToken)).Status);
    }

    [Fact]
    public async Task UserUsage_SumsOnlyThatUsersRowsOfThePeriod()
    {
        var (user, rows) = await UserWithUsageAsync();
        var start = Uri.EscapeDataString(Start.ToString("O"));
        var end = Uri.EscapeDataString(Start.AddMinutes(6).ToString("O"));

        var summary = await _client.ApiGetAsync($"/v1/analytics/user/{user.Id}?start_date={start}&end_date={end}", user.AccessToken);

        var theirs = rows.Where(r => r.UserId == user.Id && r.CreatedAt <= Start.AddMinutes(6)).ToList();
        Assert.Equal(theirs.Count, summary.Body!["total_requests"]!.GetValue<int>());
        Assert.Equal(theirs.Sum(r => r.TotalTokens), summary.Body["total_tokens"]!.GetValue<int>());
        Assert.Equal(theirs.Count(r => r.Model == "model-b"), summary.Body["model_breakdown"]!["model-b"]!["requests"]!.GetValue<int>());
    }

    [Fact]
    public async Task List_RowsOfTheFirstRelease_AreListedOnceMoved()
    {
        var user = await _client.RegisterAsync();
        var store = factory.Services.GetRequiredService<IEntityStore>();
        var old = Enumerable.Range(0, 3).Select(i => new UsageRecord($"old{i}", user.PersonalWorkspaceId, user.Id, null, "model-a", "primary", "chat", false,
            1, 1, 2, 0.01m, 100, null, UsageStatus.Ok, "api", Start.AddSeconds(i))).ToList();
        var batch = JsonSerializer.Serialize(new UsageBatch(old), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        await store.UpsertAsync("modelusage", user.PersonalWorkspaceId, "20261102080000000000_old0", batch, CancellationToken.None);

        var listed = await _client.WalkAsync("/api/v1/analytics/usage", 2, user.AccessToken);

        Assert.Equal(["old2", "old1", "old0"], Ids(listed));
        Assert.Empty((await store.QueryAsync("modelusage", new EntityQuery { PartitionKey = user.PersonalWorkspaceId }, CancellationToken.None)).Items);
    }
}
