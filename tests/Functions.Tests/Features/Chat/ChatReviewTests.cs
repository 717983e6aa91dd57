using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Chat;

/// <summary>Regressions found in review: each of these failed before its fix.</summary>
public sealed partial class ChatTests
{
    [Fact]
    public async Task RetriedRun_RunsAsWhoeverRetriedIt_SoAKeyCannotEscapeItsAllowListThroughAnotherStartersRun()
    {
        var (user, key, _) = await UserWithSoloKeyAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, LlmFlow(new { answer = "{{think.text}}" }));
        string byUser;
        using (fixture.FailEveryUpstream())
        {
            byUser = await _client.ExecuteAsync(user, workflowId, new { message = "hi" });
            Assert.Equal("failed", (await _client.WaitForAsync(user, byUser))["status"]!.GetValue<string>());
        }

        var byKey = (await _client.ApiPostAsync($"/api/v1/workflows/{workflowId}/execute", new { input = new { message = "hi" } }, null, key))
            .Data["executionId"]!.GetValue<string>();
        Assert.Equal("failed", (await _client.WaitForAsync(user, byKey))["status"]!.GetValue<string>());

        // The key retries the user's run: the model is outside its allow-list. The user retries the key's run: it is not.
        Assert.Equal(HttpStatusCode.Accepted, (await _client.ApiPostAsync($"/api/v1/executions/{byUser}/retry", new { }, null, key)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.ApiPostAsync($"/api/v1/executions/{byKey}/retry", new { }, user.AccessToken)).Status);
        var retriedByKey = await _client.WaitForAsync(user, byUser, r => r["status"]!.GetValue<string>() is "succeeded" or "failed");
        var retriedByUser = await _client.WaitForAsync(user, byKey, r => r["status"]!.GetValue<string>() is "succeeded" or "failed");

        Assert.Equal("failed", retriedByKey["status"]!.GetValue<string>());
        Assert.Contains("may not use the model", retriedByKey["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("succeeded", retriedByUser["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Completion_WithAMessagesEntryThatIsNotAnObject_Is422()
    {
        var (user, appId) = await ChatbotAsync();

        foreach (var entry in new[] { "1", "\"hi\"", "[1]", "true" })
        {
            var answered = await _client.ApiPostAsync("/api/v1/chat/completions", $$"""{"appId":"{{appId}}","messages":[{{entry}}]}""", user.AccessToken);

            Assert.Equal(HttpStatusCode.UnprocessableEntity, answered.Status);
            Assert.Equal("messages[0]", answered.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        }
    }
}
