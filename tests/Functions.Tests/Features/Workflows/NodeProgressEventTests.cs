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

public sealed class ProgressFactory : WorkflowFactory
{
    public ProgressFactory() => TestServices = services => services.AddSingleton<INodeType, ProgressProbeNode>();
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
