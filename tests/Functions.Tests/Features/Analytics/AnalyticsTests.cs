using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Analytics;

/// <summary>The gateway fixture with the trigger host on: runs execute, exports are written, alerts can be evaluated.</summary>
public sealed class AnalyticsFixture : GatewayFixture
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "true",
        ["Workflows:HeartbeatSeconds"] = "1",
    };
}

/// <summary>
/// Analytics through HTTP: every expected figure is computed here from the usage rows and runs the test made, and
/// compared with what the roll-ups answer.
/// </summary>
public sealed class AnalyticsTests(AnalyticsFixture fixture) : IClassFixture<AnalyticsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    /// <summary>start → condition (regex from the input; an invalid one fails the run) → end on its true branch.</summary>
    private static JsonObject Checked() => Definition(
        [
            Node("start", "start"),
            Node("check", "condition", new { conditions = new[] { new { left = "{{inputs.text}}", @operator = "regex", right = "{{inputs.pattern}}" } } }),
            Node("end", "end", new { outputs = new { ok = "yes" } }),
        ],
        [Edge("start", "check"), Edge("check", "end", "true")]);

    private static JsonObject Chatty() => Line(new { text = "{{ask.text}}" }, Node("ask", "llm", new { model = "gpt-test", userPrompt = "Hi" }));

    private sealed record Made(TestUser User, string Key, string Chatty, string Checked, List<JsonNode> Usage, List<JsonNode> Runs);

    /// <summary>Three gateway calls with an API key, two runs with an llm node, three runs of which one fails.</summary>
    private async Task<Made> MakeActivityAsync()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        for (var i = 0; i < 3; i++)
        {
            var call = await _client.ApiPostAsync("/v1/chat/completions", new { model = "gpt-test", messages = new[] { new { role = "user", content = "hello" } } }, headers: Users.ApiKey(key));
            Assert.Equal(HttpStatusCode.OK, call.Status);
        }

        var chatty = await CreateAsync(user, Chatty(), minutesSaved: 2.5m);
        var checkedFlow = await CreateAsync(user, Checked(), minutesSaved: 10m);
        var runs = new List<JsonNode>
        {
            await _client.RunAsync(user, chatty),
            await _client.RunAsync(user, chatty),
            await _client.RunAsync(user, checkedFlow, new { text = "abc", pattern = "b" }),
            await _client.RunAsync(user, checkedFlow, new { text = "abc", pattern = "a" }),
            await _client.RunAsync(user, checkedFlow, new { text = "abc", pattern = "(" }),
        };
        Assert.Equal(["succeeded", "succeeded", "succeeded", "succeeded", "failed"], runs.Select(r => r["status"]!.GetValue<string>()));
        var usage = await _client.WaitForUsageAsync(user.AccessToken, 5);
        Assert.Equal(5, usage.Count);
        await WaitForAnalyticsAsync(user, runs: 5, requests: 5);
        return new Made(user, key, chatty, checkedFlow, usage, [.. await Task.WhenAll(runs.Select(r => _client.GetExecutionAsync(user, r["executionId"]?.GetValue<string>() ?? r["id"]!.GetValue<string>())))]);
    }

    private async Task<string> CreateAsync(TestUser user, JsonObject definition, decimal minutesSaved)
    {
        var created = await _client.ApiPostAsync("/api/v1/workflows", new JsonObject
        {
            ["name"] = "wf", ["definition"] = definition.DeepClone(), ["minutesSavedPerRun"] = minutesSaved,
        }.ToJsonString(), user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return created.Data["id"]!.GetValue<string>();
    }

    /// <summary>Roll-ups are merged in the background: waits until the dashboard counts what the test made.</summary>
    private Task<JsonNode> WaitForAnalyticsAsync(TestUser user, long runs, long requests) => WaitForAnalyticsAsync(user.AccessToken, runs, requests);

    private async Task<JsonNode> WaitForAnalyticsAsync(string token, long runs, long requests)
    {
        JsonNode? dashboard = null;
        for (var i = 0; i < 200; i++)
        {
            dashboard = (await _client.ApiGetAsync("/api/v1/analytics/dashboard", token)).Data;
            if (dashboard["total_executions"]!.GetValue<long>() >= runs && dashboard["model_requests"]!.GetValue<long>() >= requests)
            {
                return dashboard;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Analytics did not catch up: {dashboard?.ToJsonString()}");
    }

    private static double Ms(JsonNode run) =>
        (DateTimeOffset.Parse(run["completedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture)
         - DateTimeOffset.Parse((run["startedAt"] ?? run["createdAt"])!.GetValue<string>(), CultureInfo.InvariantCulture)).TotalMilliseconds;

    private static double NearestRank(IEnumerable<double> values, double percent)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Max(1, (int)Math.Ceiling(percent / 100 * sorted.Count)) - 1];
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= expected * 0.021 + 0.6, $"expected about {expected}, got {actual}");

    private static string Id(JsonNode node, string name) => node[name]?.GetValue<string>() ?? "";

    [Fact]
    public async Task Statistics_GroupedByEveryDimension_MatchTheRowsAndRunsMade()
    {
        var made = await MakeActivityAsync();
        var rows = made.Usage;

        var byModel = (await _client.ApiGetAsync("/api/v1/analytics/usage?groupBy=model", made.User.AccessToken)).Data;
        var byKey = (await _client.ApiGetAsync("/api/v1/analytics/usage?groupBy=apiKey", made.User.AccessToken)).Data;
        var byWorkflow = (await _client.ApiGetAsync("/api/v1/analytics/usage?groupBy=workflow", made.User.AccessToken)).Data;
        var byUser = (await _client.ApiGetAsync("/api/v1/analytics/usage?groupBy=user", made.User.AccessToken)).Data;

        var totals = byModel["totals"]!;
        Assert.Equal(rows.Count, totals["requests"]!.GetValue<long>());
        Assert.Equal(rows.Sum(r => r["promptTokens"]!.GetValue<long>()), totals["promptTokens"]!.GetValue<long>());
        Assert.Equal(rows.Sum(r => r["completionTokens"]!.GetValue<long>()), totals["completionTokens"]!.GetValue<long>());
        Assert.Equal(rows.Sum(r => r["costUsd"]!.GetValue<decimal>()), totals["costUsd"]!.GetValue<decimal>());
        Assert.Equal(5, totals["runs"]!.GetValue<long>());
        Assert.Equal(1, totals["runsFailed"]!.GetValue<long>());
        var model = Assert.Single(byModel["groups"]!.AsArray());
        Assert.Equal("gpt-test", model!["key"]!.GetValue<string>());
        var keyRows = rows.Where(r => Id(r, "apiKeyId").Length > 0).ToList();
        var keyGroup = Assert.Single(byKey["groups"]!.AsArray());
        Assert.Equal(keyRows.Count, keyGroup!["requests"]!.GetValue<long>());
        Assert.Equal(keyRows[0]["apiKeyId"]!.GetValue<string>(), keyGroup["key"]!.GetValue<string>());
        var workflows = byWorkflow["groups"]!.AsArray().ToDictionary(g => g!["key"]!.GetValue<string>(), g => g!);
        Assert.Equal(2, workflows[made.Chatty]["requests"]!.GetValue<long>());
        Assert.Equal(2, workflows[made.Chatty]["runs"]!.GetValue<long>());
        Assert.Equal(3, workflows[made.Checked]["runs"]!.GetValue<long>());
        Assert.Equal(1, workflows[made.Checked]["runsFailed"]!.GetValue<long>());
        Assert.Equal(0, workflows[made.Checked]["requests"]!.GetValue<long>());
        var mine = byUser["groups"]!.AsArray().Single(g => g!["key"]!.GetValue<string>() == made.User.Id)!;
        Assert.Equal(rows.Count, mine["requests"]!.GetValue<long>());
        Assert.Equal(5, mine["runs"]!.GetValue<long>());
    }

    [Fact]
    public async Task PerformanceCostsAndDashboard_ComputeRatesPercentilesAndSavingsFromTheRuns()
    {
        var made = await MakeActivityAsync();
        var durations = made.Runs.Select(Ms).ToList();

        var performance = (await _client.ApiGetAsync("/api/v1/analytics/performance", made.User.AccessToken)).Data;
        var costs = (await _client.ApiGetAsync("/api/v1/analytics/costs", made.User.AccessToken)).Data;
        var dashboard = (await _client.ApiGetAsync("/api/v1/analytics/dashboard", made.User.AccessToken)).Data;

        var runs = performance["runs"]!;
        Assert.Equal(5, runs["runs"]!.GetValue<long>());
        Assert.Equal(0.8, runs["successRate"]!.GetValue<double>());
        foreach (var (name, percent) in new[] { ("p50", 50.0), ("p95", 95.0), ("p99", 99.0) })
        {
            AssertClose(NearestRank(durations, percent), runs["latencyMs"]![name]!.GetValue<double>());
        }

        AssertClose(durations.Average(), runs["latencyMs"]!["avg"]!.GetValue<double>());
        var checkedFlow = performance["workflows"]!.AsArray().Single(w => w!["key"]!.GetValue<string>() == made.Checked)!;
        Assert.Equal(Math.Round(2 / 3.0, 4), checkedFlow["successRate"]!.GetValue<double>());
        var nodeTypes = performance["nodeTypes"]!.AsArray().ToDictionary(n => n!["type"]!.GetValue<string>(), n => n!);
        Assert.Equal(2, nodeTypes["llm"]["attempts"]!.GetValue<long>());
        Assert.Equal(3, nodeTypes["condition"]["attempts"]!.GetValue<long>());
        Assert.Equal(1, nodeTypes["condition"]["failed"]!.GetValue<long>());
        var gpt = performance["models"]!.AsArray().Single()!;
        Assert.Equal(5, gpt["requests"]!.GetValue<long>());
        AssertClose(NearestRank(made.Usage.Select(r => r["latencyMs"]!.GetValue<double>()), 50), gpt["latencyMs"]!["p50"]!.GetValue<double>());

        var totalCost = made.Usage.Sum(r => r["costUsd"]!.GetValue<decimal>());
        Assert.True(totalCost > 0);
        Assert.Equal("USD", costs["currency"]!.GetValue<string>());
        Assert.Equal(totalCost, costs["totalUsd"]!.GetValue<decimal>());
        Assert.Equal(totalCost, costs["by"]!["model"]![0]!["costUsd"]!.GetValue<decimal>());
        Assert.Equal(1.0, costs["by"]!["provider"]![0]!["share"]!.GetValue<double>());
        var keyCost = made.Usage.Where(r => Id(r, "apiKeyId").Length > 0).Sum(r => r["costUsd"]!.GetValue<decimal>());
        Assert.Equal(keyCost, costs["by"]!["apiKey"]![0]!["costUsd"]!.GetValue<decimal>());
        Assert.Equal(totalCost - keyCost, costs["by"]!["workflow"]!.AsArray().Sum(w => w!["costUsd"]!.GetValue<decimal>()));

        Assert.Equal(5, dashboard["total_executions"]!.GetValue<long>());
        Assert.Equal(0.8, dashboard["success_rate"]!.GetValue<double>());
        AssertClose(durations.Average(), dashboard["avg_latency"]!.GetValue<double>());
        // Two successful runs of the first workflow (2.5 minutes each), two of the second (10 minutes each); the failure saves nothing.
        Assert.Equal(25m, dashboard["savings_estimate"]!.GetValue<decimal>());
        Assert.Equal(5, dashboard["executions_today"]!.GetValue<long>());
        Assert.Equal(made.Checked, dashboard["top_workflows"]![0]!["key"]!.GetValue<string>());
    }

    [Fact]
    public async Task UsageByDay_InATimeZone_SplitsAtLocalMidnight_AndKeepsEmptyDays()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        // Calls 9 hours apart over two days: local midnights of UTC, New York and Tokyo each fall between different pairs.
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await _client.ApiPostAsync("/v1/chat/completions",
                new { model = "gpt-test", messages = new[] { new { role = "user", content = "x" } } }, headers: Users.ApiKey(key))).Status);
            fixture.Factory.Clock.Advance(TimeSpan.FromHours(9));
        }

        // Fifty-four hours on, the session has expired; the key (which holds usage:read) reads on.
        var rows = await _client.WaitForUsageAsync(key, 6);
        var times = rows.Select(r => DateTimeOffset.Parse(r["createdAt"]!.GetValue<string>(), CultureInfo.InvariantCulture)).ToList();
        var from = times.Min().AddDays(-1);
        var to = times.Max().AddDays(1);
        await WaitForAnalyticsAsync(key, 0, 6);

        foreach (var tz in new[] { "UTC", "America/New_York", "Asia/Tokyo" })
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(tz);
            var answer = await _client.ApiGetAsync(
                $"/api/v1/analytics/usage?groupBy=day&tz={Uri.EscapeDataString(tz)}&from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}",
                key);
            Assert.True(answer.Status == HttpStatusCode.OK, $"{tz}: {answer.Status} {answer.Body}");
            var groups = answer.Data["groups"]!.AsArray();
            var expected = new Dictionary<DateTime, int>();
            // Local dates against local clock time: a DateTime compared with a DateTimeOffset would be read as UTC.
            for (var day = TimeZoneInfo.ConvertTime(from, zone).Date; day < TimeZoneInfo.ConvertTime(to, zone).DateTime; day = day.AddDays(1))
            {
                expected[day] = times.Count(t => TimeZoneInfo.ConvertTime(t, zone).Date == day);
            }

            Assert.Equal(expected.Count, groups.Count);
            foreach (var group in groups)
            {
                var start = DateTimeOffset.Parse(group!["key"]!.GetValue<string>(), CultureInfo.InvariantCulture);
                Assert.Equal(zone.GetUtcOffset(start), start.Offset);
                Assert.Equal(TimeSpan.Zero, TimeZoneInfo.ConvertTime(start, zone).TimeOfDay);
                Assert.Equal(expected[TimeZoneInfo.ConvertTime(start, zone).Date], group["requests"]!.GetValue<long>());
            }

            Assert.Contains(groups, g => g!["requests"]!.GetValue<long>() == 0);
        }

        var empty = (await _client.ApiGetAsync("/api/v1/analytics/usage?groupBy=hour&from=2020-01-01T00:00:00Z&to=2020-01-01T03:00:00Z", key)).Data;
        Assert.Equal(3, empty["groups"]!.AsArray().Count);
        Assert.All(empty["groups"]!.AsArray(), g => Assert.Equal(0, g!["requests"]!.GetValue<long>()));
        Assert.Equal(0, empty["totals"]!["requests"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("/api/v1/analytics/usage?groupBy=colour", "groupBy")]
    [InlineData("/api/v1/analytics/usage?groupBy=day&tz=Asia/Kolkata", "tz")]
    [InlineData("/api/v1/analytics/usage?groupBy=day&tz=Mars/Olympus", "tz")]
    [InlineData("/api/v1/analytics/performance?from=2026-02-01&to=2026-01-01", "from")]
    [InlineData("/api/v1/analytics/metrics?type=happiness", "type")]
    [InlineData("/api/v1/analytics/metrics?type=cost&interval=2m", "interval")]
    [InlineData("/api/v1/analytics/metrics?type=cost&interval=1h&from=2020-01-01&to=2021-01-01", "interval")]
    [InlineData("/api/v1/analytics/costs?from=yesterday", "from")]
    public async Task BadQueries_Are422_NamingTheField(string url, string field)
    {
        var user = await _client.RegisterAsync();
        var answer = await _client.ApiGetAsync(url, user.AccessToken);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, answer.Status);
        Assert.Equal(field, answer.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Metrics_HourlySeries_CountRunsPerBucket_AndLeaveUndefinedRatesNull()
    {
        var made = await MakeActivityAsync();
        var from = Uri.EscapeDataString(fixture.Factory.Clock.GetUtcNow().AddHours(-3).ToString("O"));
        var to = Uri.EscapeDataString(fixture.Factory.Clock.GetUtcNow().AddMinutes(1).ToString("O"));

        var count = (await _client.ApiGetAsync($"/api/v1/analytics/metrics?type=execution_count&interval=1h&from={from}&to={to}", made.User.AccessToken)).Data;
        var errors = (await _client.ApiGetAsync($"/api/v1/analytics/metrics?type=error_rate&interval=1h&from={from}&to={to}&workflowId={made.Checked}", made.User.AccessToken)).Data;

        Assert.Equal(5, count["series"]!.AsArray().Sum(p => p!["value"]!.GetValue<double>()));
        Assert.True(count["series"]!.AsArray().Count >= 4);
        var defined = errors["series"]!.AsArray().Where(p => p!["value"] is not null).ToList();
        Assert.Equal(Math.Round(1 / 3.0, 4), Assert.Single(defined)!["value"]!.GetValue<double>());
        Assert.Contains(errors["series"]!.AsArray(), p => p!["value"] is null);
    }

    [Fact]
    public async Task Workspaces_SeeOnlyTheirOwn_AndAdminRoutesArePlatformAdminsOnly()
    {
        var made = await MakeActivityAsync();
        var stranger = await _client.RegisterAsync();

        var theirs = (await _client.ApiGetAsync("/api/v1/analytics/dashboard", stranger.AccessToken)).Data;
        Assert.Equal(0, theirs["total_executions"]!.GetValue<long>());
        Assert.Equal(0, theirs["model_requests"]!.GetValue<long>());
        var foreignWorkspace = await _client.ApiGetAsync("/api/v1/analytics/costs", stranger.AccessToken, new Dictionary<string, string> { ["X-Workspace-Id"] = made.User.PersonalWorkspaceId });
        Assert.Equal(HttpStatusCode.NotFound, foreignWorkspace.Status);

        foreach (var route in new[] { "executions", "usage?groupBy=workspace", "costs" })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await _client.ApiGetAsync($"/api/v1/admin/analytics/{route}", made.User.AccessToken)).Status);
        }

        // Other tests move the shared clock by hours: the operator's first session may have expired.
        var operatorUser = await _client.SignInAgainAsync(fixture.Operator);
        var admin = await _client.ApiGetAsync("/api/v1/admin/analytics/executions", operatorUser.AccessToken);
        Assert.Equal(HttpStatusCode.OK, admin.Status);
        var workspace = admin.Data["workspaces"]!.AsArray().Single(w => w!["key"]!.GetValue<string>() == made.User.PersonalWorkspaceId)!;
        Assert.Equal(5, workspace["runs"]!.GetValue<long>());
        Assert.True(admin.Data["runs"]!["runs"]!.GetValue<long>() >= 5);
        var usage = (await _client.ApiGetAsync("/api/v1/admin/analytics/usage?groupBy=workspace", operatorUser.AccessToken)).Data;
        Assert.Equal(5, usage["groups"]!.AsArray().Single(g => g!["key"]!.GetValue<string>() == made.User.PersonalWorkspaceId)!["requests"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("csv")]
    [InlineData("json")]
    public async Task Export_OfUsage_IsWrittenInTheBackground_AndDownloadsThroughAnExpiringSignedLink(string format)
    {
        var made = await MakeActivityAsync();

        var started = await _client.ApiPostAsync("/api/v1/analytics/export", new { kind = "usage", format }, made.User.AccessToken);
        Assert.Equal(HttpStatusCode.Accepted, started.Status);
        var id = started.Data["id"]!.GetValue<string>();
        JsonNode export = started.Data;
        for (var i = 0; i < 200 && export["status"]!.GetValue<string>() != "completed"; i++)
        {
            await Task.Delay(50);
            export = (await _client.ApiGetAsync($"/api/v1/analytics/exports/{id}", made.User.AccessToken)).Data;
        }

        Assert.Equal("completed", export["status"]!.GetValue<string>());
        Assert.Equal(made.Usage.Count, export["rows"]!.GetValue<long>());
        var link = new Uri(export["downloadUrl"]!.GetValue<string>());
        using var anonymous = fixture.Factory.CreateClient();
        var file = await anonymous.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        var text = await file.Content.ReadAsStringAsync();
        List<string> ids;
        if (format == "csv")
        {
            Assert.Equal("text/csv", file.Content.Headers.ContentType!.MediaType);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var header = lines[0].Split(',');
            Assert.Equal("id", header[0]);
            var cost = Array.IndexOf(header, "costUsd");
            ids = [.. lines.Skip(1).Select(l => l.Split(',')[0])];
            Assert.Equal(made.Usage.Sum(r => r["costUsd"]!.GetValue<decimal>()), lines.Skip(1).Sum(l => decimal.Parse(l.Split(',')[cost], CultureInfo.InvariantCulture)));
        }
        else
        {
            var items = JsonNode.Parse(text)!.AsArray();
            ids = [.. items.Select(r => r!["id"]!.GetValue<string>())];
            Assert.All(items, r => Assert.Equal("gpt-test", r!["model"]!.GetValue<string>()));
        }

        Assert.Equal(made.Usage.Select(r => r["id"]!.GetValue<string>()).Order(), ids.Order());
        var tampered = link.PathAndQuery.Replace("signature=", "signature=0", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(tampered)).StatusCode);
        var otherWorkspace = link.PathAndQuery.Replace(made.User.PersonalWorkspaceId, fixture.Operator.PersonalWorkspaceId, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(otherWorkspace)).StatusCode);
        var stranger = await _client.RegisterAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/analytics/exports/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/analytics/export", new { kind = "secrets" }, made.User.AccessToken)).Status);
        fixture.Factory.Clock.Advance(TimeSpan.FromMinutes(61));
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(link.PathAndQuery)).StatusCode);
    }

    [Fact]
    public async Task Alert_OnAWorkflowsErrorRate_FiresResolvesAndRespectsItsCooldown()
    {
        var made = await MakeActivityAsync();
        // The clock moves on past the session's lifetime: the test acts through a key.
        var owner = made.User with { AccessToken = await _client.CreateKeyAsync(made.User, ["usage:read", "alerts:write", "workflows:read", "workflows:execute"]) };
        var events = fixture.Factory.Services.GetRequiredService<PlatformEventLog>();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _client.ApiPostAsync("/api/v1/alerts",
            new { name = "bad", metric = "mood", @operator = "gt", threshold = 1, window = "15m" }, owner.AccessToken)).Status);
        var created = await _client.ApiPostAsync("/api/v1/alerts",
            new { name = "Checked fails", metric = "error_rate", @operator = "gt", threshold = 0.2, window = "15m", workflowId = made.Checked, cooldownMinutes = 30 },
            owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = created.Data["id"]!.GetValue<string>();

        await EvaluateAsync();
        var firing = (await _client.ApiGetAsync($"/api/v1/alerts/{id}", owner.AccessToken)).Data;
        Assert.Equal("firing", firing["state"]!.GetValue<string>());
        Assert.Equal(Math.Round(1 / 3.0, 4), firing["lastValue"]!.GetValue<double>());
        var triggered = await events.GetAsync(made.User.PersonalWorkspaceId, $"alert.triggered:{id}:1", CancellationToken.None);
        Assert.NotNull(triggered);
        Assert.Equal(made.Checked, triggered.Payload["workflowId"]!.GetValue<string>());

        // Twenty minutes on, the failures have left the window: the alert resolves.
        fixture.Factory.Clock.Advance(TimeSpan.FromMinutes(20));
        await EvaluateAsync();
        Assert.Equal("ok", (await _client.ApiGetAsync($"/api/v1/alerts/{id}", owner.AccessToken)).Data["state"]!.GetValue<string>());
        Assert.NotNull(await events.GetAsync(made.User.PersonalWorkspaceId, $"alert.resolved:{id}:2", CancellationToken.None));

        // A new failure within the 30-minute cooldown does not fire again.
        await _client.RunAsync(owner, made.Checked, new { text = "abc", pattern = "(" });
        await WaitForAnalyticsAsync(owner, 6, 5);
        await EvaluateAsync();
        var cooling = (await _client.ApiGetAsync($"/api/v1/alerts/{id}", owner.AccessToken)).Data;
        Assert.Equal("ok", cooling["state"]!.GetValue<string>());
        Assert.Equal(1.0, cooling["lastValue"]!.GetValue<double>());
        Assert.Null(await events.GetAsync(made.User.PersonalWorkspaceId, $"alert.triggered:{id}:3", CancellationToken.None));

        var stranger = await _client.RegisterAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/alerts/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/alerts/{id}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/alerts/{id}", owner.AccessToken)).Status);
        Assert.Empty((await _client.ApiGetAsync("/api/v1/alerts", owner.AccessToken)).Data.AsArray());
    }

    private Task EvaluateAsync() => TriggerInvoker.InvokeAsync(fixture.Factory.Services, "EvaluateAlerts", null);
}
