using System.Net.Http.Headers;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Models;

/// <summary>A one-second node lease, so a stream of a few seconds outlives it many times over.</summary>
public sealed class ShortLeaseFixture : GatewayFixture
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "true",
        ["Workflows:NodeLeaseSeconds"] = "1",
        ["Workflows:StaleAfterSeconds"] = "1",
        ["Models:RequestTimeoutSeconds"] = "20",
    };
}

public sealed class LlmNodeLeaseTests(ShortLeaseFixture fixture) : IClassFixture<ShortLeaseFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task StreamingLlmNode_OutlivingItsLease_IsNotTakenOver_WhileItReportsTokens()
    {
        const int Tokens = 30;
        var user = await _client.RegisterAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, Line(new { answer = "{{think.text}}" },
            Node("think", "llm", new { model = "gpt-test", userPrompt = "{{inputs.q}}" })));
        // Three seconds of tokens: three times the lease.
        fixture.Primary.EnqueueSlowStream("t ", Tokens, TimeSpan.FromMilliseconds(100));
        var calls = fixture.Primary.Received.Count(r => r.Path == "/v1/chat/completions");

        var executionId = await _client.ExecuteAsync(user, workflowId, new { q = "go" });
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(900);
            await TriggerInvoker.InvokeAsync(fixture.Factory.Services, "WorkflowWatchdog");
        }

        var run = await _client.WaitForAsync(user, executionId, seconds: 30);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{executionId}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        var log = await (await _client.SendAsync(request)).Content.ReadAsStringAsync();

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(string.Concat(Enumerable.Repeat("t ", Tokens)), run["outputs"]!["answer"]!.GetValue<string>());
        Assert.Equal(calls + 1, fixture.Primary.Received.Count(r => r.Path == "/v1/chat/completions"));
        Assert.DoesNotContain("\"takeover\":true", log, StringComparison.Ordinal);
    }
}
