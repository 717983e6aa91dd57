using System.Net;
using Serverless.Functions.Tests.Features.WorkflowTriggers;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Processes;

/// <summary>Behflow's automated processes through HTTP: their shape, what is refused, who sees what, and running one by hand.</summary>
public sealed class ProcessApiTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>, IAsyncLifetime
{
    private readonly HttpClient _client = factory.CreateClient();
    private TestUser _user = null!;
    private string _workflow = null!;

    public async Task InitializeAsync() => (_user, _workflow) = await _client.UserWithEchoWorkflowAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task TimeBased_IsCreatedInBehflowsShape_WithNextRunOnTheZonesWallClock()
    {
        var created = await _client.CreateProcessAsync(_user, new
        {
            name = "Morning report",
            description = "every weekday",
            trigger_type = "time_based",
            schedule = "0 9 * * 1-5",
            timezone = "Europe/Berlin",
            action = new { workflowId = _workflow, inputs = new { x = 1 } },
        });

        Assert.StartsWith("proc_", created.Id(), StringComparison.Ordinal);
        Assert.Equal("Morning report", created["name"]!.GetValue<string>());
        Assert.Equal("every weekday", created["description"]!.GetValue<string>());
        Assert.Equal("time_based", created["trigger_type"]!.GetValue<string>());
        Assert.Equal("0 9 * * 1-5", created["schedule"]!.GetValue<string>());
        Assert.True(created["is_active"]!.GetValue<bool>());
        Assert.Null(created["last_execution"]);
        Assert.Equal(_workflow, created["action"]!["workflowId"]!.GetValue<string>());
        var next = created["next_run"]!.GetValue<DateTimeOffset>();
        var local = TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        Assert.Equal((9, 0), (local.Hour, local.Minute));
        Assert.InRange(local.DayOfWeek, DayOfWeek.Monday, DayOfWeek.Friday);

        var listed = (await _client.ApiGetAsync("/api/v1/processes?trigger_type=time_based", _user.AccessToken)).Data.AsArray();
        Assert.Contains(listed, p => p!.Id() == created.Id());
        Assert.Equal(next, (await _client.GetProcessAsync(_user, created.Id()))["next_run"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task Update_MovesNextRun_AndDeactivatingClearsIt_ThenDeleteRemovesIt()
    {
        var created = await _client.CreateProcessAsync(_user, ProcessApi.TimeBased(_workflow, "0 9 * * *"));

        var moved = await _client.ApiPutAsync($"/api/v1/processes/{created.Id()}", new { schedule = "30 6 * * *", name = "renamed" }, _user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, moved.Status);
        Assert.Equal("renamed", moved.Data["name"]!.GetValue<string>());
        var next = moved.Data["next_run"]!.GetValue<DateTimeOffset>();
        Assert.Equal((6, 30), (next.Hour, next.Minute));

        var off = await _client.ApiPutAsync($"/api/v1/processes/{created.Id()}", new { is_active = false }, _user.AccessToken);
        Assert.False(off.Data["is_active"]!.GetValue<bool>());
        Assert.Null(off.Data["next_run"]);

        var manual = await _client.ApiPutAsync($"/api/v1/processes/{created.Id()}", new { trigger_type = "manual", is_active = true }, _user.AccessToken);
        Assert.Equal("manual", manual.Data["trigger_type"]!.GetValue<string>());
        Assert.Null(manual.Data["schedule"]);
        Assert.Null(manual.Data["next_run"]);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/processes/{created.Id()}", _user.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/processes/{created.Id()}", _user.AccessToken)).Status);
    }

    [Theory]
    [InlineData("""{"trigger_type":"manual","action":{"workflowId":"W"}}""", "name")]
    [InlineData("""{"name":"p","trigger_type":"hourly","action":{"workflowId":"W"}}""", "trigger_type")]
    [InlineData("""{"name":"p","trigger_type":"time_based","action":{"workflowId":"W"}}""", "schedule")]
    [InlineData("""{"name":"p","trigger_type":"time_based","schedule":"0 9 * *","action":{"workflowId":"W"}}""", "schedule")]
    [InlineData("""{"name":"p","trigger_type":"time_based","schedule":"0 0 30 2 *","action":{"workflowId":"W"}}""", "schedule")]
    [InlineData("""{"name":"p","trigger_type":"time_based","schedule":"0 9 * * *","timezone":"Mars/Olympus","action":{"workflowId":"W"}}""", "timezone")]
    [InlineData("""{"name":"p","trigger_type":"event_based","action":{"workflowId":"W"}}""", "event")]
    [InlineData("""{"name":"p","trigger_type":"event_based","event":{"filter":{"a":1}},"action":{"workflowId":"W"}}""", "event.name")]
    [InlineData("""{"name":"p","trigger_type":"event_based","event":{"name":"dataset.completed","filter":[1]},"action":{"workflowId":"W"}}""", "event.filter")]
    [InlineData("""{"name":"p","trigger_type":"manual"}""", "action")]
    [InlineData("""{"name":"p","trigger_type":"manual","action":{"inputs":{}}}""", "action.workflowId")]
    [InlineData("""{"name":"p","trigger_type":"manual","action":{"workflowId":"W","inputs":[1]}}""", "action.inputs")]
    [InlineData("""{"name":"p","trigger_type":"manual","is_active":"yes","action":{"workflowId":"W"}}""", "is_active")]
    public async Task Create_InvalidFields_Answer422WithTheField(string body, string field)
    {
        var response = await _client.ApiPostAsync("/api/v1/processes", body.Replace("\"W\"", $"\"{_workflow}\"", StringComparison.Ordinal), _user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Contains(response.Body!["error"]!["details"]!.AsArray(), d => d!["field"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task Update_ToTimeBasedWithoutSchedule_Answers422()
    {
        var created = await _client.CreateProcessAsync(_user, new { name = "m", trigger_type = "manual", action = new { workflowId = _workflow } });

        var response = await _client.ApiPutAsync($"/api/v1/processes/{created.Id()}", new { trigger_type = "time_based" }, _user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Equal("schedule", response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_WithAWorkflowOfNoOnesWorkspace_Answers404()
    {
        var response = await _client.ApiPostAsync("/api/v1/processes",
            new { name = "p", trigger_type = "manual", action = new { workflowId = "wf_missing" } }, _user.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
    }

    [Fact]
    public async Task AnotherWorkspace_SeesNone_OfTheProcesses_NorTheirWorkflows()
    {
        var created = await _client.CreateProcessAsync(_user, new { name = "mine", trigger_type = "manual", action = new { workflowId = _workflow } });
        var other = await _client.RegisterAsync();
        var id = created.Id();

        Assert.DoesNotContain((await _client.ApiGetAsync("/api/v1/processes", other.AccessToken)).Data.AsArray(), p => p!.Id() == id);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/processes/{id}", other.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPutAsync($"/api/v1/processes/{id}", new { name = "theirs" }, other.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync($"/api/v1/processes/{id}/execute", null, other.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/processes/{id}/executions", other.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/processes/{id}", other.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync("/api/v1/processes",
            new { name = "p", trigger_type = "manual", action = new { workflowId = _workflow } }, other.AccessToken)).Status);
        Assert.Equal("mine", (await _client.GetProcessAsync(_user, id))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Execute_AnswersBehflowsShape_AndTheRunCompletesWithTheActionsInputs()
    {
        var created = await _client.CreateProcessAsync(_user, new { name = "by hand", trigger_type = "manual", action = new { workflowId = _workflow, inputs = new { x = 5 } } });

        var response = await _client.ApiPostAsync($"/api/v1/processes/{created.Id()}/execute", null, _user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var execution = response.Data;
        Assert.Equal(created.Id(), execution["process_id"]!.GetValue<string>());
        Assert.Equal("success", execution["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(execution["message"]!.GetValue<string>()));
        var started = execution["started_at"]!.GetValue<DateTimeOffset>();
        Assert.True(execution["completed_at"]!.GetValue<DateTimeOffset>() >= started);
        var run = await _client.WaitForAsync(_user, execution["execution_id"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(5, run["outputs"]!["x"]!.GetValue<int>());

        var second = (await _client.ApiPostAsync($"/api/v1/processes/{created.Id()}/execute", null, _user.AccessToken)).Data;
        var listed = await _client.ListProcessExecutionsAsync(_user, created.Id());
        Assert.Equal([second["execution_id"]!.GetValue<string>(), execution["execution_id"]!.GetValue<string>()],
            listed.Select(e => e!["execution_id"]!.GetValue<string>()));
        Assert.All(listed, e => Assert.Equal("manual", e!["source"]!.GetValue<string>()));
        var process = await _client.GetProcessAsync(_user, created.Id());
        Assert.Equal(second["execution_id"]!.GetValue<string>(), process["last_execution_id"]!.GetValue<string>());
        Assert.NotNull(process["last_execution"]);
    }

    [Fact]
    public async Task Execute_WhenTheWorkflowIsGone_IsAFailedExecutionWithTheReason()
    {
        var workflow = await _client.CreateWorkflowAsync(_user, Line(new { }));
        var created = await _client.CreateProcessAsync(_user, new { name = "orphan", trigger_type = "manual", action = new { workflowId = workflow } });
        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/workflows/{workflow}", _user.AccessToken)).Status);

        var execution = (await _client.ApiPostAsync($"/api/v1/processes/{created.Id()}/execute", null, _user.AccessToken)).Data;

        Assert.Equal("failed", execution["status"]!.GetValue<string>());
        Assert.Contains("not found", execution["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(await _client.ListProcessExecutionsAsync(_user, created.Id()));
        Assert.Equal(0, await _client.CountRunsAsync(_user, workflow));
    }
}
