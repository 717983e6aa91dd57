using System.Net;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Processes;

/// <summary>The Behflow task assistant lists and runs processes as tools.</summary>
public sealed class ProcessAssistantTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Assistant_ListsProcesses_ThenRunsOne()
    {
        var user = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { x = "{{inputs.x}}" }));
        var process = await _client.CreateProcessAsync(user, new { name = "Nightly report", trigger_type = "manual", action = new { workflowId = workflow, inputs = new { x = 5 } } });
        fixture.Primary.EnqueueToolCalls(("list_processes", new { }));
        fixture.Primary.EnqueueToolCalls(("run_process", new { process_id = process.Id() }), ("run_process", new { process_id = "prc_missing" }));
        fixture.Primary.EnqueueReply("I ran the nightly report.");

        var reply = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "Run the nightly report", model = "solo" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("I ran the nightly report.", reply.Data["response"]!.GetValue<string>());
        var rounds = fixture.Primary.Received.Where(r => r.Path == "/v1/chat/completions").TakeLast(3).Select(r => r.Body!).ToList();
        var toolNames = rounds[0]["tools"]!.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("list_processes", toolNames);
        Assert.Contains("run_process", toolNames);
        var messages = rounds[2]["messages"]!.AsArray().Where(m => m!["role"]!.GetValue<string>() == "tool").Select(m => m!["content"]!.GetValue<string>()).ToList();
        Assert.Contains(messages, m => m.Contains("Nightly report", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("\"ok\":false", StringComparison.Ordinal) && m.Contains("prc_missing", StringComparison.Ordinal));
        var execution = Assert.Single(await _client.ListProcessExecutionsAsync(user, process.Id()))!;
        // The run itself is the workflow engine's (this fixture's trigger host is off): it exists with the process's inputs.
        var run = await _client.GetExecutionAsync(user, execution["execution_id"]!.GetValue<string>());
        Assert.Equal(5, run["inputs"]!["x"]!.GetValue<int>());
        Assert.Equal(process.Id(), run["metadata"]!["processId"]!.GetValue<string>());
    }
}
