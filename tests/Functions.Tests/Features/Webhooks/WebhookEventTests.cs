using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Features.Webhooks;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Webhooks;

/// <summary>user.created from registration, drained by hand.</summary>
public sealed class WebhookRegistrationEventTests : WebhookTestBase
{
    [Fact]
    public async Task Registration_RecordsUserCreated_InTheNewPersonalWorkspace()
    {
        // Registration's event waits on platform-events; a webhook subscribed before the dispatch receives it.
        var user = await Client.RegisterAsync();
        var created = await Client.ApiPostAsync("/api/v1/webhooks", new { url = Receiver.BaseUrl + "/ok", events = new[] { "user.created" } }, user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);

        await DrainAsync();

        var received = Assert.Single(Receiver.Received);
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("user.created", body["event"]!.GetValue<string>());
        Assert.Equal($"user.created:{user.Id}", body["id"]!.GetValue<string>());
        Assert.Equal(user.Id, body["data"]!["userId"]!.GetValue<string>());
        Assert.Equal(user.Email, body["data"]!["email"]!.GetValue<string>());
    }
}

/// <summary>workflow.completed and workflow.failed from real runs, with the trigger host driving every queue.</summary>
public sealed class WebhookWorkflowEventTests : IAsyncLifetime
{
    private readonly WorkflowFactory _factory = new WebhookWorkflowFactory();
    private HttpClient _client = null!;
    private WebhookReceiver _receiver = null!;
    private TestUser _user = null!;

    public async Task InitializeAsync()
    {
        _client = _factory.CreateClient();
        _receiver = await WebhookReceiver.StartAsync();
        _user = await _client.RegisterAsync();
        var created = await _client.ApiPostAsync("/api/v1/webhooks",
            new { url = _receiver.BaseUrl + "/ok", events = new[] { "workflow.completed", "workflow.failed" } }, _user.AccessToken);
        Assert.Equal(HttpStatusCode.Created, created.Status);
    }

    [Fact]
    public async Task CompletedRun_IsDelivered_WithItsOutputs()
    {
        var workflowId = await _client.CreateWorkflowAsync(_user, Line(new { answer = "42" }));
        var runId = await _client.ExecuteAsync(_user, workflowId);
        Assert.Equal("succeeded", (await _client.WaitForAsync(_user, runId))["status"]!.GetValue<string>());

        var body = await WaitForEventAsync($"workflow.completed:{runId}");

        Assert.Equal("workflow.completed", body["event"]!.GetValue<string>());
        Assert.Equal(runId, body["data"]!["runId"]!.GetValue<string>());
        Assert.Equal(workflowId, body["data"]!["workflowId"]!.GetValue<string>());
        Assert.Equal("succeeded", body["data"]!["status"]!.GetValue<string>());
        Assert.Equal("42", body["data"]!["outputs"]!["answer"]!.GetValue<string>());
    }

    [Fact]
    public async Task FailedRun_IsDelivered_WithItsError()
    {
        var workflowId = await _client.CreateWorkflowAsync(_user, Line(new { },
            Node("call", "http_request", new { url = $"{_receiver.BaseUrl}/status/500", retry = new { maxAttempts = 1, backoffSeconds = 0 } })));
        var runId = await _client.ExecuteAsync(_user, workflowId);
        Assert.Equal("failed", (await _client.WaitForAsync(_user, runId))["status"]!.GetValue<string>());

        var body = await WaitForEventAsync($"workflow.failed:{runId}");

        Assert.Equal("workflow.failed", body["event"]!.GetValue<string>());
        Assert.Equal("failed", body["data"]!["status"]!.GetValue<string>());
        Assert.Equal("call", body["data"]!["error"]!["nodeId"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["data"]!["error"]!["code"]!.GetValue<string>()));
    }

    private async Task<JsonNode> WaitForEventAsync(string eventId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var found = _receiver.Received.Where(r => r.Path == "/ok").Select(r => JsonNode.Parse(r.Body)!).FirstOrDefault(b => b["id"]!.GetValue<string>() == eventId);
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{eventId} was not delivered.");
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private sealed class WebhookWorkflowFactory() : WorkflowFactory(new Dictionary<string, string?> { ["Webhooks:AllowedPrivateHosts"] = "127.0.0.1" });
}

public sealed class WebhookRetriesTests
{
    [Fact]
    public void Delay_FollowsTheScheduleWithJitter_HonoursRetryAfterCapped_AndEnds()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), WebhookRetries.Delay(1, null, 0));
        Assert.Equal(TimeSpan.FromSeconds(31.5), WebhookRetries.Delay(1, null, 0.5));
        Assert.Equal(TimeSpan.FromMinutes(2), WebhookRetries.Delay(2, null, 0));
        Assert.Equal(TimeSpan.FromHours(8), WebhookRetries.Delay(9, null, 0));
        Assert.Null(WebhookRetries.Delay(10, null, 0));
        Assert.Equal(TimeSpan.FromSeconds(90), WebhookRetries.Delay(1, TimeSpan.FromSeconds(90), 0.5));
        Assert.Equal(WebhookRetries.MaxRetryAfter, WebhookRetries.Delay(1, TimeSpan.FromDays(3), 0.5));
        Assert.Equal(TimeSpan.FromSeconds(1), WebhookRetries.Delay(1, TimeSpan.Zero, 0.5));
        var total = WebhookRetries.Schedule.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Assert.InRange(total, TimeSpan.FromHours(20), TimeSpan.FromHours(26));
    }
}
