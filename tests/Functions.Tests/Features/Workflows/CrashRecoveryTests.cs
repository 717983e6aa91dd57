using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>
/// The process is killed (SIGKILL) while runs are mid-flight — one in a delay, one in a long fan-out. After a
/// restart on the same data, every run finishes with the outputs an undisturbed run has.
/// </summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private const int Branches = 20;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "platform-tests", "crash-" + Guid.NewGuid().ToString("N"));
    private FakeUpstream _upstream = null!;

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Http__AllowedPrivateHosts"] = "127.0.0.1",
        ["Auth__PasswordHashIterations"] = "1000",
        ["RateLimits__AuthPerMinutePerIp"] = "100000",
        ["RateLimits__ExecutePerMinute"] = "100000",
    };

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private JsonObject FanOut()
    {
        var calls = Enumerable.Range(0, Branches).Select(i => Node($"call{i}", "http_request", new { url = $"{_upstream.BaseUrl}/slow?ms=600&branch={i}" })).ToList();
        // Each branch's body (its effect), not its headers: a Date header differs between any two runs.
        var outputs = Enumerable.Range(0, Branches).ToDictionary(i => $"b{i}", i => $"{{{{call{i}.body}}}}");
        outputs["tag"] = "{{inputs.tag}}";
        outputs["joined"] = "{{join.branches}}";
        return Definition(
            [Node("start", "start"), .. calls, Node("join", "merge"), Node("end", "end", new { outputs })],
            [.. calls.Select(c => Edge("start", c["id"]!.GetValue<string>())), .. calls.Select(c => Edge(c["id"]!.GetValue<string>(), "join")), Edge("join", "end")]);
    }

    [Fact]
    public async Task KilledMidFlight_EveryRunFinishesAfterRestartWithUndisturbedOutputs()
    {
        TestUser user;
        string delayed, fanned, delayWorkflow, fanWorkflow;
        JsonNode undisturbed;
        using (var first = await AppProcess.StartAsync(_data, Settings))
        {
            using var client = new HttpClient { BaseAddress = new Uri(first.BaseUrl) };
            user = await client.RegisterAsync();
            delayWorkflow = await client.CreateWorkflowAsync(user, Line(new { v = "{{inputs.v}}", waited = "{{pause.waitedSeconds}}" }, Node("pause", "delay", new { seconds = 2 })));
            fanWorkflow = await client.CreateWorkflowAsync(user, FanOut());
            undisturbed = (await client.RunAsync(user, fanWorkflow, new { tag = "t" }))["outputs"]!;

            delayed = await client.ExecuteAsync(user, delayWorkflow, new { v = 42 });
            fanned = await client.ExecuteAsync(user, fanWorkflow, new { tag = "t" });
            await client.WaitForAsync(user, delayed, r => r["status"]!.GetValue<string>() == "waiting");
            await client.WaitForAsync(user, fanned, r => r["nodes"]!.AsArray().Any(n => n!["status"]!.GetValue<string>() == "running"));
            first.Kill();
        }

        using var second = await AppProcess.StartAsync(_data, Settings);
        using var after = new HttpClient { BaseAddress = new Uri(second.BaseUrl) };
        var delayedRun = await after.WaitForAsync(user, delayed, seconds: 40);
        var fannedRun = await after.WaitForAsync(user, fanned, seconds: 40);

        Assert.Equal("succeeded", delayedRun["status"]!.GetValue<string>());
        Assert.Equal(42, delayedRun["outputs"]!["v"]!.GetValue<int>());
        Assert.Equal(2, delayedRun["outputs"]!["waited"]!.GetValue<int>());
        Assert.Equal("succeeded", fannedRun["status"]!.GetValue<string>());
        var outputs = fannedRun["outputs"]!.AsObject();
        var expected = undisturbed.AsObject();
        Assert.Equal(Branches, outputs["joined"]!.AsObject().Count);
        Assert.All(Enumerable.Range(0, Branches), i => Assert.True(JsonNode.DeepEquals(expected[$"b{i}"], outputs[$"b{i}"]), $"branch {i}"));
        Assert.Equal("t", outputs["tag"]!.GetValue<string>());
        Assert.All(fannedRun["nodes"]!.AsArray(), n => Assert.Equal("succeeded", n!["status"]!.GetValue<string>()));
    }
}
