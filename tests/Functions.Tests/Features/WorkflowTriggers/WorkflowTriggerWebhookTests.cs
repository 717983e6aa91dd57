using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.WorkflowTriggers;

/// <summary>Calling a webhook trigger's URL anonymously starts the workflow with the request as inputs.request.</summary>
public sealed class WorkflowTriggerWebhookTests(WorkflowTriggerFactory factory) : IClassFixture<WorkflowTriggerFactory>, IAsyncLifetime
{
    private readonly HttpClient _client = factory.CreateClient();
    private TestUser _user = null!;
    private string _workflow = null!;

    public async Task InitializeAsync()
    {
        _user = await _client.RegisterAsync();
        _workflow = await _client.CreateWorkflowAsync(_user,
            Line(new { x = "{{inputs.request.body.x}}", tag = "{{inputs.tag}}" }));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<(string Url, JsonNode Trigger)> HookAsync(object body)
    {
        var trigger = await _client.CreateTriggerAsync(_user, _workflow, body);
        return (trigger["url"]!.GetValue<string>(), trigger);
    }

    [Fact]
    public async Task Call_Answers202_AndTheRunSeesTheBodyQueryAndHeaders()
    {
        var (url, _) = await HookAsync(new { type = "webhook", inputs = new { tag = "t1" } });

        var called = await _client.ApiPostAsync(url + "?page=2", """{"x":"hello"}""",
            headers: new Dictionary<string, string> { ["X-Source"] = "crm", ["X-Hook-Signature"] = "sha256=ignored", ["Cookie"] = "a=b" });

        Assert.Equal(HttpStatusCode.Accepted, called.Status);
        var run = await _client.WaitForAsync(_user, called.Data["executionId"]!.GetValue<string>());
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal("hello", run["outputs"]!["x"]!.GetValue<string>());
        Assert.Equal("t1", run["outputs"]!["tag"]!.GetValue<string>());
        var request = run["inputs"]!["request"]!;
        Assert.Equal("2", request["query"]!["page"]!.GetValue<string>());
        var headers = request["headers"]!.AsObject();
        Assert.Contains("content-type", headers.Select(h => h.Key));
        Assert.Equal("crm", headers["x-source"]!.GetValue<string>());
        Assert.DoesNotContain(headers, h => h.Key is "x-hook-signature" or "cookie" or "authorization");
    }

    [Fact]
    public async Task Call_WithANonJsonBody_PassesTheText()
    {
        var (url, _) = await HookAsync(new { type = "webhook", respond = "when_finished" });
        using var content = new StringContent("a=1&b=2", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");

        using var response = await _client.PostAsync(new Uri(url), content);
        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["data"]!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var execution = await _client.GetExecutionAsync(_user, run["executionId"]!.GetValue<string>());
        Assert.Equal("a=1&b=2", execution["inputs"]!["request"]!["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task WhenFinished_Answers200WithTheOutputs()
    {
        var (url, _) = await HookAsync(new { type = "webhook", respond = "when_finished" });

        var called = await _client.ApiPostAsync(url, """{"x":"done"}""");

        Assert.Equal(HttpStatusCode.OK, called.Status);
        Assert.Equal("succeeded", called.Data["status"]!.GetValue<string>());
        Assert.Equal("done", called.Data["outputs"]!["x"]!.GetValue<string>());
    }

    [Fact]
    public async Task SignedHook_RefusesMissingWrongAndStaleSignatures_AndAcceptsTheRightOne()
    {
        var (url, trigger) = await HookAsync(new { type = "webhook", secret = true });
        var secret = trigger["signingSecret"]!.GetValue<string>();
        const string body = """{"x":"signed"}""";
        var now = factory.Clock.GetUtcNow();

        var missing = await _client.ApiPostAsync(url, body);
        var wrongSecret = await _client.ApiPostAsync(url, body, headers: WorkflowTriggerApi.Sign("whsec_other", body, now));
        var otherBody = await _client.ApiPostAsync(url, """{"x":"tampered"}""", headers: WorkflowTriggerApi.Sign(secret, body, now));
        var stale = await _client.ApiPostAsync(url, body, headers: WorkflowTriggerApi.Sign(secret, body, now.AddMinutes(-6)));
        var good = await _client.ApiPostAsync(url, body, headers: WorkflowTriggerApi.Sign(secret, body, now));

        Assert.All([missing, wrongSecret, otherBody, stale], r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
        Assert.All([missing, wrongSecret, otherBody, stale], r => Assert.Equal("UNAUTHORIZED", r.ErrorCode));
        Assert.Equal(HttpStatusCode.Accepted, good.Status);
        var run = await _client.WaitForAsync(_user, good.Data["executionId"]!.GetValue<string>());
        Assert.Equal("signed", run["outputs"]!["x"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownToken_Is404()
    {
        var response = await _client.ApiPostAsync("/api/v1/hooks/" + Convert.ToBase64String(new byte[32]).TrimEnd('=').Replace('+', '-').Replace('/', '_'), "{}");

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.Equal("NOT_FOUND", response.ErrorCode);
    }

    [Fact]
    public async Task DeletedOrInactiveTrigger_Is404()
    {
        var (url, trigger) = await HookAsync(new { type = "webhook" });
        var (inactiveUrl, _) = await HookAsync(new { type = "webhook", active = false });
        Assert.Equal(HttpStatusCode.NoContent,
            (await _client.ApiDeleteAsync($"/api/v1/workflows/{_workflow}/triggers/{trigger["id"]!.GetValue<string>()}", _user.AccessToken)).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync(url, "{}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiPostAsync(inactiveUrl, "{}")).Status);
    }

    [Fact]
    public async Task EachTrigger_IsRateLimitedOnItsOwn()
    {
        var (url, _) = await HookAsync(new { type = "webhook" });
        var (other, _) = await HookAsync(new { type = "webhook" });
        // Start at the top of a minute so the five calls share one window.
        var now = factory.Clock.GetUtcNow();
        factory.Clock.Advance(TimeSpan.FromSeconds(60 - now.Second) - TimeSpan.FromMilliseconds(now.Millisecond));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await _client.ApiPostAsync(url, "{}")).Status);
        }

        var limited = await _client.ApiPostAsync(url, "{}");
        var elsewhere = await _client.ApiPostAsync(other, "{}");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.Equal("RATE_LIMIT_EXCEEDED", limited.ErrorCode);
        Assert.NotNull(limited.Header("Retry-After"));
        Assert.Equal(HttpStatusCode.Accepted, elsewhere.Status);
    }
}
