using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
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

/// <summary>Turns against deletes, departing clients and each other.</summary>
public sealed partial class ChatTests
{
    // The message rows themselves: the index rows beside them (keys from "~") copy them.
    private async Task<List<Serverless.Functions.Platform.Storage.Stored<JsonObject>>> StoredMessagesAsync(string chatId) =>
        await new Serverless.Functions.Platform.Storage.EntityTable<JsonObject>(
            (Serverless.Orchestrations.Ports.IEntityStore)fixture.Factory.Services.GetService(typeof(Serverless.Orchestrations.Ports.IEntityStore))!, "chatmessages")
            .QueryAllAsync(new Serverless.Orchestrations.Ports.EntityQuery { PartitionKey = chatId, RowKeyTo = "~" }, CancellationToken.None).ToListAsync();

    /// <summary>Holds the first insert whose JSON contains <paramref name="marker"/> until the returned release is completed.</summary>
    private (Task Reached, TaskCompletionSource Release) HoldInsertOf(string marker)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.BeforeInsert = async (table, json) =>
        {
            if (table == "chatmessages" && json.Contains(marker, StringComparison.Ordinal) && reached.TrySetResult())
            {
                await release.Task;
            }
        };
        return (reached.Task, release);
    }

    [Fact]
    public async Task DeletingAChat_WhileATurnStreams_KeepsNoneOfTheTurn_AndTheStreamEndsWithAnError()
    {
        var (user, appId) = await ChatbotAsync();
        var chatId = (await _client.ChatAsync(user, new { appId, message = "first" }))["chatId"]!.GetValue<string>();
        var upstreamReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Primary.Enqueue(async (context, _) =>
        {
            upstreamReached.TrySetResult();
            await finish.Task;
            return false;
        });

        var streaming = _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, chatId, message = "second", stream = true });
        await upstreamReached.Task.WaitAsync(TimeSpan.FromSeconds(15));
        var deleted = await _client.ApiDeleteAsync("/api/v1/chat/history/" + chatId, user.AccessToken);
        finish.SetResult();
        var (_, events) = await streaming.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal("error", events[^1].Type);
        Assert.Equal("CONFLICT", events[^1].Data["code"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => e.Type == "end");
        Assert.Empty(await StoredMessagesAsync(chatId));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync("/api/v1/chat/history?chatId=" + chatId, user.AccessToken)).Status);
    }

    [Fact]
    public async Task ClientLeaving_WhileTheAnswerIsStored_StillStoresTheWholeTurn()
    {
        var (user, appId) = await ChatbotAsync();
        var (reached, release) = HoldInsertOf("leave while storing");
        try
        {
            using var leave = new CancellationTokenSource();
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { appId, message = "leave while storing" }),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.AccessToken);
            var sending = _client.SendAsync(request, leave.Token);
            await reached.WaitAsync(TimeSpan.FromSeconds(15));
            // The test server aborts the request as the client cancels, so the turn goes on with a cancelled request.
            leave.Cancel();
            release.SetResult();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        }
        finally
        {
            release.TrySetResult();
            fixture.BeforeInsert = null;
        }

        // The answer was complete when the client left: the turn is kept whole (never the question alone, nor an empty chat).
        List<string> contents = [];
        for (var i = 0; i < 100 && contents.Count < 2; i++)
        {
            await Task.Delay(50);
            var chats = await _client.HistoryAsync(user, "appId=" + appId);
            contents = chats.Count == 0 ? [] : [.. (await StoredMessagesAsync(chats[0]["id"]!.GetValue<string>())).Select(m => m.Value["content"]!.GetValue<string>())];
        }

        Assert.Equal(["leave while storing", "echo: leave while storing"], contents);
    }

    [Fact]
    public async Task TwoTurnsAtOnce_OnOneChat_StayPairedInItsHistory()
    {
        var (user, appId) = await ChatbotAsync();
        var chatId = (await _client.ChatAsync(user, new { appId, message = "opening" }))["chatId"]!.GetValue<string>();
        // Held between the slow turn's question and its answer: the fast turn is stored meanwhile.
        var (reached, release) = HoldInsertOf("\"content\":\"slow turn\"");
        try
        {
            var slow = _client.ChatAsync(user, new { appId, chatId, message = "slow turn" });
            await reached.WaitAsync(TimeSpan.FromSeconds(15));
            await _client.ChatAsync(user, new { appId, chatId, message = "fast turn" });
            release.SetResult();
            await slow.WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            release.TrySetResult();
            fixture.BeforeInsert = null;
        }

        var history = (await _client.HistoryAsync(user, "chatId=" + chatId)).Select(m => m["content"]!.GetValue<string>()).ToList();

        Assert.Equal(["opening", "echo: opening", "slow turn", "echo: slow turn", "fast turn", "echo: fast turn"], history);
    }
}

/// <summary>What a streamed workflow answer costs the run document.</summary>
public sealed partial class ChatTests
{
    [Fact]
    public async Task WorkflowApp_SlowlyStreamedAnswer_CommitsItsTokensAtMostFourTimesASecond()
    {
        const int Tokens = 40;
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { }, "workflow", LlmFlow(new { answer = "{{think.text}}" }));
        // A token every 60 ms, about what a real model writes.
        fixture.Primary.EnqueueSlowStream("tok ", Tokens, TimeSpan.FromMilliseconds(60));

        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        var (_, events) = await _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, message = "go", stream = true });
        elapsed.Stop();

        Assert.Equal("end", events[^1].Type);
        Assert.Equal(string.Concat(Enumerable.Repeat("tok ", Tokens)), string.Concat(events.Where(e => e.Type == "token").Select(e => e.Data["content"]!.GetValue<string>())));
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/executions/{events[0].Data["runId"]!.GetValue<string>()}/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        var commits = (await (await _client.SendAsync(request)).Content.ReadAsStringAsync()).Split('\n').Count(l => l == "event: node.token");
        // One commit per quarter second the stream lasted, and the final flush: bounded by time, whatever the load.
        Assert.InRange(commits, 1, (int)(elapsed.ElapsedMilliseconds / 250) + 2);
    }
}

/// <summary>A retried llm node in a streamed workflow answer.</summary>
public sealed partial class ChatTests
{
    [Fact]
    public async Task WorkflowApp_Streamed_LlmNodeRetriedAfterItsStreamBroke_MarksEachTokenWithItsAttempt()
    {
        var user = await _client.RegisterAsync();
        var appId = await _client.CreateAppAsync(user, new { }, "workflow", Line(new { answer = "{{think.text}}" },
            Node("think", "llm", new { model = "solo", userPrompt = "{{inputs.message}}", retry = new { maxAttempts = 2, backoffSeconds = 0 } })));
        // The first attempt's stream breaks off: the node fails that attempt and its retry takes over.
        EnqueueStreamBreakingAfter("Half");
        fixture.Primary.EnqueueReply(Answer);

        var (_, events) = await _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, message = "go", stream = true });

        Assert.Equal("end", events[^1].Type);
        var tokens = events.Where(e => e.Type == "token").ToList();
        Assert.Equal("Half", string.Concat(tokens.Where(t => t.Data["attempt"]!.GetValue<int>() == 1).Select(t => t.Data["content"]!.GetValue<string>())));
        Assert.Equal(Answer, string.Concat(tokens.Where(t => t.Data["attempt"]!.GetValue<int>() == 2).Select(t => t.Data["content"]!.GetValue<string>())));
        Assert.Contains(events, e => e.Type == "node.retry");
    }
}
