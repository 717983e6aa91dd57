using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Runtime;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>A node that reports progress the way the llm node reports tokens, and tries a name the engine keeps for itself.</summary>
internal sealed class ProgressProbeNode : INodeType
{
    public NodeTypeDescriptor Descriptor { get; } = new("progress_probe", "Progress probe", "test", "test",
        new JsonObject { ["type"] = "object" }, new JsonObject { ["type"] = "object" }, [], IsInstant: false);

    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var written = new JsonArray();
        foreach (var piece in new[] { "one ", "two ", "three" })
        {
            written.Add(await context.EmitAsync("token", new JsonObject { ["content"] = piece }, cancellationToken));
        }

        var refused = false;
        try
        {
            await context.EmitAsync("output", new JsonObject(), cancellationToken);
        }
        catch (ArgumentException)
        {
            refused = true;
        }

        return NodeResult.Complete(new JsonObject { ["written"] = written, ["refusedEngineName"] = refused });
    }
}

/// <summary>
/// Its first call reports, then waits for <see cref="ReleaseFirst"/> and tries to report again; later calls report and
/// wait for <see cref="ReleaseLater"/>. So a test can stop and retry the run while the first call still works.
/// </summary>
internal sealed class HeldProbeNode : INodeType
{
    private int _calls;

    public NodeTypeDescriptor Descriptor { get; } = new("held_probe", "Held probe", "test", "test",
        new JsonObject { ["type"] = "object" }, new JsonObject { ["type"] = "object" }, [], IsInstant: false);

    public TaskCompletionSource FirstStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource ReleaseFirst { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<bool> FirstLateReport { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource LaterStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource ReleaseLater { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _calls) == 1)
        {
            await context.EmitAsync("token", new JsonObject { ["content"] = "early " }, cancellationToken);
            FirstStarted.TrySetResult();
            await ReleaseFirst.Task;
            FirstLateReport.TrySetResult(await context.EmitAsync("token", new JsonObject { ["content"] = "late " }, cancellationToken));
            return NodeResult.Complete(new JsonObject { ["by"] = "first" });
        }

        await context.EmitAsync("token", new JsonObject { ["content"] = "retried " }, cancellationToken);
        LaterStarted.TrySetResult();
        await ReleaseLater.Task;
        return NodeResult.Complete(new JsonObject { ["by"] = "later" });
    }
}

public sealed class ProgressFactory : WorkflowFactory
{
    public ProgressFactory() => TestServices = services =>
    {
        services.AddSingleton<INodeType, ProgressProbeNode>();
        services.AddSingleton<HeldProbeNode>();
        services.AddSingleton<INodeType>(sp => sp.GetRequiredService<HeldProbeNode>());
    };
}

public sealed class NodeProgressEventTests(ProgressFactory factory) : IClassFixture<ProgressFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task EmitAsync_AppendsNodeEventsInLogOrder_BetweenTheNodesStartAndOutput()
    {
        var user = await _client.RegisterAsync();
        var run = await _client.RunAsync(user, await _client.CreateWorkflowAsync(user, Line(new { probe = "{{p.written}}", refused = "{{p.refusedEngineName}}" },
            Node("p", "progress_probe"))));

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{run["executionId"]!.GetValue<string>()}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        var lines = (await (await _client.SendAsync(request)).Content.ReadAsStringAsync()).Split('\n');
        var events = lines.Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l[6..])!).ToList();

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e["seq"]!.GetValue<long>()));
        var ofProbe = events.Where(e => e["nodeId"]?.GetValue<string>() == "p").Select(e => e["type"]!.GetValue<string>()).ToList();
        Assert.Equal(["node.started", EventTypes.NodeToken, EventTypes.NodeToken, EventTypes.NodeToken, "node.output"], ofProbe);
        var tokens = events.Where(e => e["type"]!.GetValue<string>() == EventTypes.NodeToken).ToList();
        Assert.Equal("one two three", string.Concat(tokens.Select(t => t["data"]!["content"]!.GetValue<string>())));
        Assert.All(tokens, t => Assert.Equal(1, t["data"]!["attempt"]!.GetValue<int>()));
        Assert.Equal([true, true, true], run["outputs"]!["probe"]!.AsArray().Select(w => w!.GetValue<bool>()));
        Assert.True(run["outputs"]!["refused"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AWorkerWhoseRunWasStoppedAndRetried_NeitherReportsNorAppliesItsResult()
    {
        var probe = factory.Services.GetRequiredService<HeldProbeNode>();
        var user = await _client.RegisterAsync();
        var runId = await _client.ExecuteAsync(user, await _client.CreateWorkflowAsync(user, Line(new { by = "{{h.by}}" }, Node("h", "held_probe"))));
        await probe.FirstStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var stopped = await _client.ApiPostAsync($"/api/v1/executions/{runId}/stop", new { }, user.AccessToken);
        var retried = await _client.ApiPostAsync($"/api/v1/executions/{runId}/retry", new { }, user.AccessToken);
        await probe.LaterStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        probe.ReleaseFirst.SetResult();
        var lateWritten = await probe.FirstLateReport.Task.WaitAsync(TimeSpan.FromSeconds(20));
        probe.ReleaseLater.SetResult();
        var ended = await _client.WaitForAsync(user, runId);

        Assert.Equal(System.Net.HttpStatusCode.OK, stopped.Status);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, retried.Status);
        // The retry started the node over at attempt 1 (takeover count 0 too): only the claim tells the two workers apart.
        Assert.False(lateWritten);
        Assert.Equal("later", ended["outputs"]!["by"]!.GetValue<string>());
        // The log's stream ends at the stop's terminal event; what the retry wrote follows it.
        var stoppedPart = await EventsAsync(user, runId, 0);
        var stopSeq = stoppedPart.Split('\n').Last(l => l.StartsWith("id: ", StringComparison.Ordinal))[4..];
        var body = stoppedPart + await EventsAsync(user, runId, long.Parse(stopSeq, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("early ", body, StringComparison.Ordinal);
        Assert.Contains("retried ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("late ", body, StringComparison.Ordinal);
    }

    private async Task<string> EventsAsync(TestUser user, string runId, long after)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{runId}/events?lastEventId={after}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return await (await _client.SendAsync(request)).Content.ReadAsStringAsync();
    }

    [Fact]
    public void ProgressTypes_AreShortLowercaseNames_ThatTheEngineDoesNotUse()
    {
        Assert.True(EventTypes.IsProgressType("token"));
        Assert.True(EventTypes.IsProgressType("tool_call"));
        Assert.False(EventTypes.IsProgressType("output"));
        Assert.False(EventTypes.IsProgressType("started"));
        Assert.False(EventTypes.IsProgressType("Token"));
        Assert.False(EventTypes.IsProgressType(""));
        Assert.False(EventTypes.IsProgressType(new string('a', 41)));
    }
}
