using System.Net;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.WorkflowTriggers;

/// <summary>Creating, listing and deleting a workflow's triggers; what is shown once; what is refused; who sees what.</summary>
public sealed class WorkflowTriggerApiTests(WorkflowTriggerFactory factory) : IClassFixture<WorkflowTriggerFactory>, IAsyncLifetime
{
    private readonly HttpClient _client = factory.CreateClient();
    private TestUser _user = null!;
    private string _workflow = null!;

    public async Task InitializeAsync() => (_user, _workflow) = await _client.UserWithEchoWorkflowAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Schedule_IsCreatedWithNextRunAtOnTheZonesWallClock()
    {
        var created = await _client.CreateTriggerAsync(_user, _workflow,
            new { type = "schedule", cron = "0 9 * * 1-5", timezone = "Europe/Berlin", inputs = new { x = 1 } });

        var next = created["nextRunAt"]!.GetValue<DateTimeOffset>();
        var local = TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        Assert.Equal(TimeSpan.Zero, next.Offset);
        Assert.Equal((9, 0), (local.Hour, local.Minute));
        Assert.InRange(local.DayOfWeek, DayOfWeek.Monday, DayOfWeek.Friday);
        Assert.InRange(next, factory.Clock.GetUtcNow(), factory.Clock.GetUtcNow().AddDays(4));
        Assert.Equal("schedule", created["type"]!.GetValue<string>());
        Assert.True(created["active"]!.GetValue<bool>());
        Assert.Equal(1, created["inputs"]!["x"]!.GetValue<int>());
    }

    [Fact]
    public async Task Schedule_SixFieldsAndDefaultUtc_AreAccepted()
    {
        var created = await _client.CreateTriggerAsync(_user, _workflow, new { type = "schedule", cron = "30 0 12 * * *" });

        Assert.Equal("UTC", created["timezone"]!.GetValue<string>());
        var next = created["nextRunAt"]!.GetValue<DateTimeOffset>();
        Assert.Equal((12, 0, 30), (next.Hour, next.Minute, next.Second));
    }

    [Theory]
    [InlineData("""{"type":"schedule","cron":"not a cron"}""", "cron")]
    [InlineData("""{"type":"schedule","cron":"0 9 * *"}""", "cron")]
    [InlineData("""{"type":"schedule","cron":"0 0 30 2 *"}""", "cron")]
    [InlineData("""{"type":"schedule","cron":"0 9 * * *","timezone":"Mars/Olympus"}""", "timezone")]
    [InlineData("""{"type":"cron"}""", "type")]
    [InlineData("""{"type":"webhook","respond":"later"}""", "respond")]
    [InlineData("""{"type":"webhook","secret":"yes"}""", "secret")]
    [InlineData("""{"type":"webhook","inputs":[1]}""", "inputs")]
    public async Task Create_InvalidFields_Answer422WithTheField(string body, string field)
    {
        var response = await _client.ApiPostAsync($"/api/v1/workflows/{_workflow}/triggers", body, _user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Contains(response.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task Webhook_UrlAndSecretAreShownOnlyOnCreate_ThenTheHint()
    {
        var created = await _client.CreateTriggerAsync(_user, _workflow, new { type = "webhook", secret = true });
        var url = created["url"]!.GetValue<string>();
        var token = url[(url.LastIndexOf('/') + 1)..];

        Assert.StartsWith("http://localhost/api/v1/hooks/", url, StringComparison.Ordinal);
        Assert.Equal(43, token.Length); // 32 random bytes, base64url without padding
        Assert.StartsWith("whsec_", created["signingSecret"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("immediately", created["respond"]!.GetValue<string>());
        var listed = (await _client.ListTriggersAsync(_user, _workflow)).Single(t => t!["id"]!.GetValue<string>() == created["id"]!.GetValue<string>())!;
        Assert.Null(listed["url"]);
        Assert.Null(listed["signingSecret"]);
        Assert.Equal(url[^4..], listed["urlHint"]!.GetValue<string>());
        Assert.True(listed["secret"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Delete_RemovesTheTrigger_AndASecondDeleteIs404()
    {
        var id = (await _client.CreateTriggerAsync(_user, _workflow, new { type = "webhook" }))["id"]!.GetValue<string>();

        var deleted = await _client.ApiDeleteAsync($"/api/v1/workflows/{_workflow}/triggers/{id}", _user.AccessToken);
        var again = await _client.ApiDeleteAsync($"/api/v1/workflows/{_workflow}/triggers/{id}", _user.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.DoesNotContain(await _client.ListTriggersAsync(_user, _workflow), t => t!["id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task AnotherWorkspace_SeesNoTriggers_AndCannotAddOrDelete()
    {
        var id = (await _client.CreateTriggerAsync(_user, _workflow, new { type = "webhook" }))["id"]!.GetValue<string>();
        var stranger = await _client.RegisterAsync();
        var theirs = await _client.CreateWorkflowAsync(stranger, Line(new { }));

        var list = await _client.ApiGetAsync($"/api/v1/workflows/{_workflow}/triggers", stranger.AccessToken);
        var create = await _client.ApiPostAsync($"/api/v1/workflows/{_workflow}/triggers", new { type = "webhook" }, stranger.AccessToken);
        var delete = await _client.ApiDeleteAsync($"/api/v1/workflows/{_workflow}/triggers/{id}", stranger.AccessToken);
        var viaOwn = await _client.ApiDeleteAsync($"/api/v1/workflows/{theirs}/triggers/{id}", stranger.AccessToken);

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound], [list.Status, create.Status, delete.Status, viaOwn.Status]);
        Assert.Contains(await _client.ListTriggersAsync(_user, _workflow), t => t!["id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task Keys_NeedTheWorkflowScopes()
    {
        var reader = await _client.CreateKeyAsync(_user, ["workflows:read"]);

        var list = await _client.ApiGetAsync($"/api/v1/workflows/{_workflow}/triggers", headers: Users.ApiKey(reader));
        var create = await _client.ApiPostAsync($"/api/v1/workflows/{_workflow}/triggers", new { type = "webhook" }, headers: Users.ApiKey(reader));

        Assert.Equal(HttpStatusCode.OK, list.Status);
        Assert.Equal(HttpStatusCode.Forbidden, create.Status);
    }
}
