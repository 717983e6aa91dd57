using System.Net;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>Another workspace's workflows and runs do not exist for a caller: 404 everywhere, never data.</summary>
public sealed class WorkflowIsolationTests(WorkflowFactory factory) : IClassFixture<WorkflowFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task OtherWorkspacesWorkflowsAndRuns_Are404()
    {
        var owner = await _client.RegisterAsync();
        var stranger = await _client.RegisterAsync();
        var id = await _client.CreateWorkflowAsync(owner, Line(new { }, Node("r", "delay", new { seconds = 60 })));
        var executionId = await _client.ExecuteAsync(owner, id);
        await _client.WaitForAsync(owner, executionId, r => r["status"]!.GetValue<string>() == "waiting");

        var answers = new[]
        {
            await _client.ApiGetAsync($"/api/v1/workflows/{id}", stranger.AccessToken),
            await _client.ApiPutAsync($"/api/v1/workflows/{id}", new { name = "mine" }, stranger.AccessToken),
            await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { }, stranger.AccessToken),
            await _client.ApiGetAsync($"/api/v1/workflows/{id}/versions", stranger.AccessToken),
            await _client.ApiGetAsync($"/api/v1/executions/{executionId}", stranger.AccessToken),
            await _client.ApiPostAsync($"/api/v1/executions/{executionId}/stop", new { }, stranger.AccessToken),
            await _client.ApiPostAsync($"/api/v1/executions/{executionId}/review", new { nodeId = "r", decision = "approve" }, stranger.AccessToken),
            await _client.ApiGetAsync($"/api/v1/executions/{executionId}/events", stranger.AccessToken),
            await _client.ApiDeleteAsync($"/api/v1/workflows/{id}", stranger.AccessToken),
        };

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.NotFound, a.Status));
        Assert.Empty((await _client.ApiGetAsync("/api/v1/executions", stranger.AccessToken)).Data.AsArray());
        Assert.Empty((await _client.ApiGetAsync("/api/v1/executions/review/pending", stranger.AccessToken)).Data.AsArray());
        Assert.Empty((await _client.ApiGetAsync("/api/v1/workflows", stranger.AccessToken)).Data.AsArray());
        Assert.Equal("waiting", (await _client.GetExecutionAsync(owner, executionId))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task SubWorkflow_CannotRunAnotherWorkspacesWorkflow()
    {
        var owner = await _client.RegisterAsync();
        var attacker = await _client.RegisterAsync();
        var secret = await _client.CreateWorkflowAsync(owner, Line(new { secret = "s3cr3t" }));
        var probe = await _client.CreateWorkflowAsync(attacker, Line(new { got = "{{sub.secret}}" }, Node("sub", "sub_workflow", new { workflowId = secret })));

        var run = await _client.WaitForAsync(attacker, await _client.ExecuteAsync(attacker, probe));

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.DoesNotContain("s3cr3t", run.ToJsonString());
    }

    [Fact]
    public async Task ViewerRole_CanReadButNotRun()
    {
        var owner = await _client.RegisterAsync();
        var viewer = await _client.RegisterAsync();
        var workspace = (await _client.ApiPostAsync("/api/v1/workspaces", new { name = "team" }, owner.AccessToken)).Data["id"]!.GetValue<string>();
        await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = viewer.Email, role = "viewer" }, owner.AccessToken);
        var inTeam = new Dictionary<string, string> { ["X-Workspace-Id"] = workspace };
        var created = await _client.ApiPostAsync("/api/v1/workflows", new { name = "team flow" }, owner.AccessToken, inTeam);
        var id = created.Data["id"]!.GetValue<string>();

        var read = await _client.ApiGetAsync($"/api/v1/workflows/{id}", viewer.AccessToken, inTeam);
        var run = await _client.ApiPostAsync($"/api/v1/workflows/{id}/execute", new { }, viewer.AccessToken, inTeam);

        Assert.Equal(HttpStatusCode.OK, read.Status);
        Assert.Equal(HttpStatusCode.Forbidden, run.Status);
    }
}
