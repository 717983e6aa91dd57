using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using Xunit.Abstractions;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Workflows;

/// <summary>
/// The process is killed (SIGKILL) while runs are mid-flight — one in a delay, one waiting for a review, one in a long
/// fan-out. After a restart on the same data, every run finishes with the outputs an undisturbed run has; the time
/// from the restart to the last run finishing is printed. A subclass supplies the backend's settings.
/// </summary>
/// <remarks>Linked into Storage.Conformance.Tests for the Azure Storage variant, which needs Azurite.</remarks>
public abstract class CrashRecovery(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Branches = 20;
    private FakeUpstream _upstream = null!;

    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "platform-tests", "crash-" + Guid.NewGuid().ToString("N"));

    /// <summary>The backend's name, for the printed recovery time.</summary>
    protected abstract string Backend { get; }

    /// <summary>How long the restarted app may take to finish every run.</summary>
    protected abstract int RecoverySeconds { get; }

    /// <summary>Both processes' settings (the same data: directory, or storage account).</summary>
    protected virtual IDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Http__AllowedPrivateHosts"] = "127.0.0.1",
        ["Auth__PasswordHashIterations"] = "1000",
        ["RateLimits__AuthPerMinutePerIp"] = "100000",
        // The waits poll every 50 ms for as long as recovery takes.
        ["RateLimits__GeneralPerMinute"] = "100000",
        ["RateLimits__ExecutePerMinute"] = "100000",
    };

    public virtual async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public virtual async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Not there (nothing kept on disk), or still held a moment: a leftover temp directory is harmless.
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

    private static JsonObject ReviewFlow() => Definition(
        [
            Node("start", "start"),
            Node("review", "human_review", new { instructions = "Ship {{inputs.item}}?" }),
            Node("yes", "set", new { values = new { outcome = "shipped", item = "{{inputs.item}}" } }),
            Node("no", "set", new { values = new { outcome = "held" } }),
            Node("end", "end", new { outputs = new { yes = "{{yes.outcome}}", item = "{{yes.item}}", no = "{{no.outcome}}", decision = "{{review.decision}}" } }),
        ],
        [Edge("start", "review"), Edge("review", "yes", "approved"), Edge("review", "no", "rejected"), Edge("yes", "end"), Edge("no", "end")]);

    [Fact]
    public async Task KilledMidFlight_EveryRunFinishesAfterRestartWithUndisturbedOutputs()
    {
        TestUser user;
        string delayed, fanned, reviewed;
        JsonNode undisturbed;
        using (var first = await AppProcess.StartAsync(DataDirectory, Settings))
        {
            using var client = new HttpClient { BaseAddress = new Uri(first.BaseUrl) };
            user = await client.RegisterAsync();
            var delayWorkflow = await client.CreateWorkflowAsync(user, Line(new { v = "{{inputs.v}}", waited = "{{pause.waitedSeconds}}" }, Node("pause", "delay", new { seconds = 2 })));
            var fanWorkflow = await client.CreateWorkflowAsync(user, FanOut());
            var reviewWorkflow = await client.CreateWorkflowAsync(user, ReviewFlow());
            undisturbed = (await client.WaitForAsync(user, await client.ExecuteAsync(user, fanWorkflow, new { tag = "t" }), seconds: RecoverySeconds))["outputs"]!;

            reviewed = await client.ExecuteAsync(user, reviewWorkflow, new { item = "box" });
            await client.WaitForAsync(user, reviewed, r => r["status"]!.GetValue<string>() == "waiting", seconds: RecoverySeconds);
            delayed = await client.ExecuteAsync(user, delayWorkflow, new { v = 42 });
            fanned = await client.ExecuteAsync(user, fanWorkflow, new { tag = "t" });
            await client.WaitForAsync(user, delayed, r => r["status"]!.GetValue<string>() == "waiting", seconds: RecoverySeconds);
            await client.WaitForAsync(user, fanned, r => r["nodes"]!.AsArray().Any(n => n!["status"]!.GetValue<string>() == "running"), seconds: RecoverySeconds);
            first.Kill();
        }

        var clock = Stopwatch.StartNew();
        using var second = await AppProcess.StartAsync(DataDirectory, Settings);
        var started = clock.Elapsed;
        using var after = new HttpClient { BaseAddress = new Uri(second.BaseUrl) };
        var decided = await after.ApiPostAsync($"/api/v1/executions/{reviewed}/review", new { nodeId = "review", decision = "approve" }, user.AccessToken);
        var delayedRun = await after.WaitForAsync(user, delayed, seconds: RecoverySeconds);
        var fannedRun = await after.WaitForAsync(user, fanned, seconds: RecoverySeconds);
        var reviewedRun = await after.WaitForAsync(user, reviewed, seconds: RecoverySeconds);
        output.WriteLine($"{Backend}: recovery {clock.Elapsed.TotalSeconds:F1} s from restart to every run finished (app answering /health after {started.TotalSeconds:F1} s).");

        Assert.Equal(HttpStatusCode.Accepted, decided.Status);
        Assert.Equal("succeeded", delayedRun["status"]!.GetValue<string>());
        Assert.Equal(42, delayedRun["outputs"]!["v"]!.GetValue<int>());
        Assert.Equal(2, delayedRun["outputs"]!["waited"]!.GetValue<int>());
        Assert.Equal("succeeded", reviewedRun["status"]!.GetValue<string>());
        Assert.Equal("shipped", reviewedRun["outputs"]!["yes"]!.GetValue<string>());
        Assert.Equal("box", reviewedRun["outputs"]!["item"]!.GetValue<string>());
        Assert.Equal("approved", reviewedRun["outputs"]!["decision"]!.GetValue<string>());
        Assert.Equal("succeeded", fannedRun["status"]!.GetValue<string>());
        var outputs = fannedRun["outputs"]!.AsObject();
        var expected = undisturbed.AsObject();
        Assert.Equal(Branches, outputs["joined"]!.AsObject().Count);
        Assert.All(Enumerable.Range(0, Branches), i => Assert.True(JsonNode.DeepEquals(expected[$"b{i}"], outputs[$"b{i}"]), $"branch {i}"));
        Assert.Equal("t", outputs["tag"]!.GetValue<string>());
        Assert.All(fannedRun["nodes"]!.AsArray(), n => Assert.Equal("succeeded", n!["status"]!.GetValue<string>()));
    }
}
