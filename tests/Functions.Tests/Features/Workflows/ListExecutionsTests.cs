using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>The run list pages in the store: every order, direction and filter pages through its runs exactly once.</summary>
public sealed class ListExecutionsTests(WorkflowFactory factory) : WorkflowTestBase(factory), IClassFixture<WorkflowFactory>
{
    [Fact]
    public async Task List_SmallPages_ListEveryRunOnceInEveryOrderAndFilter()
    {
        var ok = await Client.CreateWorkflowAsync(User, Line(new { v = "{{inputs.v}}" }));
        var failing = await Client.CreateWorkflowAsync(User, Line(new { },
            Node("call", "http_request", new { url = $"{Upstream.BaseUrl}/flaky/{Guid.NewGuid():N}?failures=1000", retry = new { maxAttempts = 1 } })));
        var runs = new List<JsonNode>();
        for (var i = 0; i < 9; i++)
        {
            var id = await Client.ExecuteAsync(User, i % 3 == 2 ? failing : ok, new { v = i });
            runs.Add(await Client.WaitForAsync(User, id));
        }

        var byCreated = runs.OrderBy(r => r["createdAt"]!.GetValue<DateTimeOffset>()).ThenBy(r => Id(r), StringComparer.Ordinal).Select(Id).ToList();
        var failedNewestFirst = runs.Where(r => r["status"]!.GetValue<string>() == "failed")
            .OrderByDescending(r => r["createdAt"]!.GetValue<DateTimeOffset>()).ThenByDescending(r => Id(r), StringComparer.Ordinal).Select(Id).ToList();

        Assert.Equal(Enumerable.Reverse(byCreated), await ListAllAsync(""));
        Assert.Equal(byCreated, await ListAllAsync("&sortBy=createdAt&sortOrder=asc"));
        Assert.Equal(failedNewestFirst, await ListAllAsync("&status=failed"));
        Assert.Equal(3, failedNewestFirst.Count);
        Assert.Equal(
            runs.Where(r => r["workflowId"]!.GetValue<string>() == ok).OrderBy(r => r["completedAt"]!.GetValue<DateTimeOffset>()).ThenBy(r => Id(r), StringComparer.Ordinal).Select(Id),
            await ListAllAsync($"&workflowId={ok}&status=succeeded&sortBy=completedAt&sortOrder=asc"));
    }

    [Fact]
    public async Task List_ToBeforeTheNewestRuns_ListsOnlyTheOlderOnes()
    {
        var ok = await Client.CreateWorkflowAsync(User, Line(new { }));
        var older = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            older.Add(Id(await Client.WaitForAsync(User, await Client.ExecuteAsync(User, ok))));
        }

        var cut = (await Client.GetExecutionAsync(User, older[^1]))["createdAt"]!.GetValue<DateTimeOffset>();
        await Client.WaitForAsync(User, await Client.ExecuteAsync(User, ok));

        var listed = await ListAllAsync($"&workflowId={ok}&to={Uri.EscapeDataString(cut.ToString("O"))}");

        Assert.Equal(Enumerable.Reverse(older), listed);
    }

    [Fact]
    public async Task List_WaitingFilter_ListsTheRunsThatWaitNow()
    {
        var review = await Client.CreateWorkflowAsync(User, Line(new { }, Node("pause", "delay", new { seconds = 600 })));
        var waiting = await Client.ExecuteAsync(User, review);
        await Client.WaitForAsync(User, waiting, r => r["status"]!.GetValue<string>() == "waiting");

        var listed = await ListAllAsync($"&workflowId={review}&status=waiting");
        var ended = await ListAllAsync($"&workflowId={review}&status=succeeded");

        Assert.Equal([waiting], listed);
        Assert.Empty(ended);
    }

    [Fact]
    public async Task List_CursorOfAnotherOrder_Is422()
    {
        var ok = await Client.CreateWorkflowAsync(User, Line(new { }));
        await Client.WaitForAsync(User, await Client.ExecuteAsync(User, ok));
        await Client.WaitForAsync(User, await Client.ExecuteAsync(User, ok));
        var first = await Client.ApiGetAsync($"/api/v1/executions?limit=1&workflowId={ok}", User.AccessToken);

        var other = await Client.ApiGetAsync(
            $"/api/v1/executions?limit=1&sortBy=completedAt&cursor={first.Body!["pagination"]!["nextCursor"]!.GetValue<string>()}", User.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Status);
        Assert.Equal("cursor", other.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    private static string Id(JsonNode? run) => run!["id"]!.GetValue<string>();

    private async Task<List<string>> ListAllAsync(string filter) =>
        (await Client.WalkAsync("/api/v1/executions?x=1" + filter, limit: 2, User.AccessToken)).Select(Id).ToList();
}
