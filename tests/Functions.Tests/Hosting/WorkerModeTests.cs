using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;
using Serverless.Orchestrations.Runtime;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Hosting;

/// <summary>
/// Worker mode without a Functions host: HTTP functions invoked with real HttpContexts answer as the standalone app
/// does (the same requests go to both and the answers are compared), and the timer and queue functions run on the
/// worker's services.
/// </summary>
public sealed class WorkerModeTests(WorkerModeHost worker, PlatformFactory standalone) : IClassFixture<WorkerModeHost>, IClassFixture<PlatformFactory>
{
    private readonly HttpClient _worker = worker.Client;
    private readonly HttpClient _standalone = standalone.CreateClient();

    [Fact]
    public async Task JsonEndpoints_AnswerAsStandalone()
    {
        foreach (var client in new[] { _worker, _standalone })
        {
            var user = await client.RegisterAsync();
            var created = await client.ApiPostAsync("/api/v1/tasks", new { name = "Water the plants", priority = "high" }, user.AccessToken);
            var listed = await client.ApiGetAsync("/api/v1/tasks?limit=5", user.AccessToken);
            var missing = await client.ApiGetAsync("/api/v1/tasks/task_missing", user.AccessToken);

            Assert.Equal(HttpStatusCode.Created, created.Status);
            Assert.Equal("Water the plants", created.Data["name"]!.GetValue<string>());
            Assert.Equal(created.Data["id"]!.GetValue<string>(), Assert.Single(listed.Data.AsArray())!["id"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.NotFound, missing.Status);
            Assert.Equal("NOT_FOUND", missing.ErrorCode);
        }
    }

    [Fact]
    public async Task Unauthenticated_Is401_WithTheSameEnvelope()
    {
        var fromWorker = await _worker.ApiGetAsync("/api/v1/tasks");
        var fromStandalone = await _standalone.ApiGetAsync("/api/v1/tasks");

        Assert.Equal(HttpStatusCode.Unauthorized, fromWorker.Status);
        Assert.Equal(fromStandalone.Status, fromWorker.Status);
        // Everything but the per-response meta (timestamp, request id) is the same.
        var expected = Without(fromStandalone.Body!, "meta");
        var actual = Without(fromWorker.Body!, "meta");
        Assert.True(JsonNode.DeepEquals(expected, actual), $"standalone: {expected.ToJsonString()}\nworker: {actual.ToJsonString()}");
        Assert.NotNull(fromWorker.Header("X-Request-Id"));
    }

    [Fact]
    public async Task MalformedJson_Is400Envelope_NotAnException()
    {
        var response = await _worker.ApiPostAsync("/api/v1/auth/login", "{\"email\": ");

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.NotNull(response.ErrorCode);
    }

    [Fact]
    public async Task AuthRateLimit_Is429_WithRetryAfter()
    {
        var caller = IPAddress.Parse("10.250.0.9");
        var statuses = new List<HttpStatusCode>();
        string? retryAfter = null;
        for (var i = 0; i < 7; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { email = "nobody@example.com", password = "Wrong1horse" }),
            };
            request.Options.Set(WorkerModeHost.RemoteAddress, caller);
            using var response = await _worker.SendAsync(request);
            statuses.Add(response.StatusCode);
            retryAfter ??= response.Headers.RetryAfter?.ToString();
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(5, statuses.Count(s => s != HttpStatusCode.TooManyRequests));
        Assert.NotNull(retryAfter);
    }

    [Fact]
    public async Task IdempotentPost_IsReplayed()
    {
        var user = await _worker.RegisterAsync();
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "worker-" + Guid.NewGuid().ToString("N") };

        var first = await _worker.ApiPostAsync("/api/v1/tasks", new { name = "Once" }, user.AccessToken, key);
        var second = await _worker.ApiPostAsync("/api/v1/tasks", new { name = "Once" }, user.AccessToken, key);
        var listed = await _worker.ApiGetAsync("/api/v1/tasks", user.AccessToken);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
        Assert.Equal("true", second.Header("Idempotent-Replayed"));
        Assert.Equal(first.Data["id"]!.GetValue<string>(), second.Data["id"]!.GetValue<string>());
        Assert.Single(listed.Data.AsArray());
    }

    [Fact]
    public async Task WorkflowRun_StartedThroughAnHttpFunction_StreamsItsEventsAsSse()
    {
        var user = await _worker.RegisterAsync();
        var workflowId = await _worker.CreateWorkflowAsync(user, Line(new { doubled = "{{a.x}}" }, Node("a", "set", new { values = new { x = "{{inputs.v}}" } })));
        var executionId = await _worker.ExecuteAsync(user, workflowId, new { v = 21 });

        // The Functions host's Durable extension runs the orchestration; here the test host stands in for it.
        var run = await _worker.WaitForAsync(user, executionId);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{executionId}/events");
        request.Headers.Authorization = new("Bearer", user.AccessToken);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var events = await _worker.SendAsync(request);
        var stream = await events.Content.ReadAsStringAsync();

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        Assert.Contains("event: ", stream, StringComparison.Ordinal);
        Assert.Contains("data: ", stream, StringComparison.Ordinal);
        Assert.Contains(executionId, stream, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRoute_HasNoFunction()
    {
        using var response = await _worker.GetAsync("/api/v1/no-such-thing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task TimerAndQueueFunctions_RunOnTheWorkersServices()
    {
        const string mail = """{"to":"ada@example.com","subject":"Queued hello","body":"Hi"}""";

        await TriggerInvoker.InvokeAsync(worker.Services, "CleanupExpiredRecords");
        await TriggerInvoker.InvokeAsync(worker.Services, "SendEmail", mail);
        // A message that can never be delivered fails the invocation, so the host retries it and then poisons it.
        await Assert.ThrowsAnyAsync<Exception>(() => TriggerInvoker.InvokeAsync(worker.Services, "SendEmail", "not an email"));

        Assert.Contains(worker.Mail.Sent, m => m.To == "ada@example.com" && m.Subject == "Queued hello");
    }

    private static JsonNode Without(JsonNode body, string property)
    {
        var copy = body.DeepClone();
        copy.AsObject().Remove(property);
        return copy;
    }
}
