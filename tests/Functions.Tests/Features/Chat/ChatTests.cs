using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Chat;

public sealed partial class ChatTests(ChatFixture fixture) : IClassFixture<ChatFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private JsonObject LastUpstreamChat() =>
        fixture.Primary.Received.Where(r => r.Path == "/v1/chat/completions").Select(r => r.Body!).Last();

    /// <summary>The next streamed answer sends <paramref name="piece"/>, then the connection drops (past the first byte, so no gateway retry).</summary>
    private void EnqueueStreamBreakingAfter(string piece) => fixture.Primary.Enqueue(async (context, _) =>
    {
        context.Response.ContentType = "text/event-stream";
        await context.Response.WriteAsync("data: " + new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = piece } }) }.ToJsonString() + "\n\n");
        await context.Response.Body.FlushAsync();
        await Task.Delay(300);
        context.Abort();
        return true;
    });

    private static List<string> Contents(JsonObject upstream) =>
        [.. upstream["messages"]!.AsArray().Select(m => m!["content"]!.GetValue<string>())];

    private async Task<(TestUser User, string AppId)> ChatbotAsync(object? config = null)
    {
        var user = await _client.RegisterAsync();
        return (user, await _client.CreateAppAsync(user, config ?? new { model = "gpt-test", systemPrompt = "Be brief.", temperature = 0.3, maxTokens = 64 }));
    }

    [Fact]
    public async Task Completion_OfAChatbot_UsesTheAppsConfig_AndTheNextTurnSendsTheStoredHistory()
    {
        var (user, appId) = await ChatbotAsync();

        var first = await _client.ChatAsync(user, new { appId, message = "Hi there" });

        Assert.Equal("echo: Hi there", first["response"]!.GetValue<string>());
        Assert.Equal(15, first["tokenUsage"]!["totalTokens"]!.GetValue<int>());
        Assert.StartsWith("msg", first["messageId"]!.GetValue<string>(), StringComparison.Ordinal);
        var sent = LastUpstreamChat();
        Assert.Equal("upstream-gpt", sent["model"]!.GetValue<string>());
        Assert.Equal(0.3, sent["temperature"]!.GetValue<double>());
        Assert.Equal(64, sent["max_tokens"]!.GetValue<int>());
        Assert.Equal(["Be brief.", "Hi there"], Contents(sent));
        Assert.Equal("system", sent["messages"]![0]!["role"]!.GetValue<string>());

        var chatId = first["chatId"]!.GetValue<string>();
        var second = await _client.ChatAsync(user, new { appId, chatId, message = "And again?" });

        Assert.Equal(chatId, second["chatId"]!.GetValue<string>());
        Assert.Equal(["Be brief.", "Hi there", "echo: Hi there", "And again?"], Contents(LastUpstreamChat()));
        var messages = await _client.HistoryAsync(user, "chatId=" + chatId);
        Assert.Equal(["user", "assistant", "user", "assistant"], messages.Select(m => m["role"]!.GetValue<string>()));
        Assert.Equal(second["messageId"]!.GetValue<string>(), messages[3]["id"]!.GetValue<string>());
        Assert.Equal(15, messages[3]["tokenUsage"]!["totalTokens"]!.GetValue<int>());
        var chats = await _client.HistoryAsync(user, "appId=" + appId);
        var chat = Assert.Single(chats);
        Assert.Equal(chatId, chat["id"]!.GetValue<string>());
        Assert.Equal("Hi there", chat["title"]!.GetValue<string>());
        Assert.Empty(await _client.HistoryAsync(user, "appId=app_other"));
    }

    [Fact]
    public async Task Completion_History_IsCappedAtTheConfiguredNumberOfMessages()
    {
        var (user, appId) = await ChatbotAsync(new { model = "gpt-test" });
        var chatId = (await _client.ChatAsync(user, new { appId, message = "one" }))["chatId"]!.GetValue<string>();
        for (var i = 0; i < 11; i++)
        {
            await _client.ChatAsync(user, new { appId, chatId, message = $"turn {i}" });
        }

        var sent = Contents(LastUpstreamChat());

        // 20 stored messages (the default Chat:HistoryMessages) and the new one; the first turn fell out.
        Assert.Equal(21, sent.Count);
        Assert.DoesNotContain("one", sent);
        Assert.Equal("turn 10", sent[^1]);
    }

    [Fact]
    public async Task Completion_Streamed_SendsStartTokensAndEnd_AndStoresTheAnswer()
    {
        var (user, appId) = await ChatbotAsync();

        var (response, events) = await _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, message = "Stream please", stream = true });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("start", events[0].Type);
        Assert.Equal("end", events[^1].Type);
        Assert.Equal("Hello!", string.Concat(events.Where(e => e.Type == "token").Select(e => e.Data["content"]!.GetValue<string>())));
        var chatId = events[0].Data["chatId"]!.GetValue<string>();
        Assert.Equal(chatId, events[^1].Data["chatId"]!.GetValue<string>());
        Assert.Equal(15, events[^1].Data["tokenUsage"]!["totalTokens"]!.GetValue<int>());
        Assert.Equal(15, events[^1].Data["tokenUsage"]!["total"]!.GetValue<int>());
        Assert.True(LastUpstreamChat()["stream"]!.GetValue<bool>());
        var messages = await _client.HistoryAsync(user, "chatId=" + chatId);
        Assert.Equal(["Stream please", "Hello!"], messages.Select(m => m["content"]!.GetValue<string>()));
        Assert.Equal(events[^1].Data["messageId"]!.GetValue<string>(), messages[1]["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Completion_Streamed_ClientLeaving_CancelsTheUpstreamCall()
    {
        var (user, appId) = await ChatbotAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { appId, message = "hang on", stream = true }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.AccessToken);

        using (var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line && line != "event: token")
            {
            }
        }

        // The fake holds its stream open after the first piece until the gateway lets go of the request.
        await fixture.Primary.StreamAborted.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Completion_WithAMessagesArray_UsesTheEarlierOnesAsHistory_AndStoresThem()
    {
        var (user, appId) = await ChatbotAsync();
        var messages = new object[]
        {
            new { role = "user", content = "My name is Ada." },
            new { role = "assistant", content = "Hello Ada." },
            new { role = "user", content = "What is my name?" },
        };

        var answer = await _client.ChatAsync(user, new { appId, messages });

        Assert.Equal(["Be brief.", "My name is Ada.", "Hello Ada.", "What is my name?"], Contents(LastUpstreamChat()));
        var stored = await _client.HistoryAsync(user, "chatId=" + answer["chatId"]!.GetValue<string>());
        Assert.Equal(4, stored.Count);

        // With a chatId the chat's own history wins; only the last message of the array is new.
        await _client.ChatAsync(user, new { appId, chatId = answer["chatId"]!.GetValue<string>(), messages = new object[] { new { role = "user", content = "ignored" }, new { role = "user", content = "Again" } } });
        Assert.Equal(["Be brief.", "My name is Ada.", "Hello Ada.", "What is my name?", "echo: What is my name?", "Again"], Contents(LastUpstreamChat()));
    }

    [Fact]
    public async Task Completion_BadInput_Is422WithTheField()
    {
        var (user, appId) = await ChatbotAsync();

        async Task<string?> FieldOf(object body)
        {
            var answered = await _client.ApiPostAsync("/api/v1/chat/completions", body, user.AccessToken);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, answered.Status);
            Assert.Equal("VALIDATION_ERROR", answered.ErrorCode);
            return answered.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>();
        }

        Assert.Equal("appId", await FieldOf(new { message = "hi" }));
        Assert.Equal("message", await FieldOf(new { appId }));
        Assert.Equal("messages", await FieldOf(new { appId, message = "hi", messages = new[] { new { role = "user", content = "hi" } } }));
        Assert.Equal("messages[0]", await FieldOf(new { appId, messages = new[] { new { role = "system", content = "obey" }, new { role = "user", content = "hi" } } }));
        Assert.Equal("messages", await FieldOf(new { appId, messages = new[] { new { role = "user", content = "hi" }, new { role = "assistant", content = "yo" } } }));
        Assert.Equal("message", await FieldOf(new { appId, message = new string('x', 20_001) }));
    }

    [Fact]
    public async Task Feedback_RatesAnAnswer_AndRejectsBadRatingsAndForeignMessages()
    {
        var (user, appId) = await ChatbotAsync();
        var answer = await _client.ChatAsync(user, new { appId, message = "Rate me" });
        var chatId = answer["chatId"]!.GetValue<string>();
        var messageId = answer["messageId"]!.GetValue<string>();
        var other = await _client.ChatAsync(user, new { appId, message = "Another chat" });

        var rated = await _client.ApiPostAsync("/api/v1/chat/feedback", new { chatId, messageId, rating = "down", comment = "too short" }, user.AccessToken);
        var bad = await _client.ApiPostAsync("/api/v1/chat/feedback", new { chatId, messageId, rating = "meh" }, user.AccessToken);
        var foreign = await _client.ApiPostAsync("/api/v1/chat/feedback", new { chatId, messageId = other["messageId"]!.GetValue<string>(), rating = "up" }, user.AccessToken);
        var unknown = await _client.ApiPostAsync("/api/v1/chat/feedback", new { chatId = "chat_nope", messageId, rating = "up" }, user.AccessToken);
        var userMessage = (await _client.HistoryAsync(user, "chatId=" + chatId))[0]["id"]!.GetValue<string>();
        var onQuestion = await _client.ApiPostAsync("/api/v1/chat/feedback", new { chatId, messageId = userMessage, rating = "up" }, user.AccessToken);
        var again = await _client.ApiPostAsync("/api/v1/chat/feedback", new { chatId, messageId, rating = "up" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, rated.Status);
        Assert.Equal("down", rated.Data["feedback"]!["rating"]!.GetValue<string>());
        Assert.Equal("too short", rated.Data["feedback"]!["comment"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
        Assert.Equal("rating", bad.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, foreign.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, onQuestion.Status);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        var stored = (await _client.HistoryAsync(user, "chatId=" + chatId))[1];
        Assert.Equal("up", stored["feedback"]!["rating"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_RemovesTheChatAndItsMessages()
    {
        var (user, appId) = await ChatbotAsync();
        var kept = (await _client.ChatAsync(user, new { appId, message = "keep" }))["chatId"]!.GetValue<string>();
        var gone = (await _client.ChatAsync(user, new { appId, message = "drop" }))["chatId"]!.GetValue<string>();

        var deleted = await _client.ApiDeleteAsync("/api/v1/chat/history/" + gone, user.AccessToken);
        var again = await _client.ApiDeleteAsync("/api/v1/chat/history/" + gone, user.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync("/api/v1/chat/history?chatId=" + gone, user.AccessToken)).Status);
        Assert.Equal([kept], (await _client.HistoryAsync(user, "appId=" + appId)).Select(c => c["id"]!.GetValue<string>()));
        var continued = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, chatId = gone, message = "still there?" }, user.AccessToken);
        Assert.Equal(HttpStatusCode.NotFound, continued.Status);
        var store = new Serverless.Functions.Platform.Storage.EntityTable<object>(
            fixture.Factory.Services.GetService(typeof(Serverless.Orchestrations.Ports.IEntityStore)) as Serverless.Orchestrations.Ports.IEntityStore
            ?? throw new InvalidOperationException("no entity store"), "chatmessages");
        Assert.Empty(await store.QueryAllAsync(new Serverless.Orchestrations.Ports.EntityQuery { PartitionKey = gone }, CancellationToken.None).ToListAsync());
    }

    [Fact]
    public async Task Sessions_WithoutAnApp_TalkToTheDefaultModel_AndShareTheChatHistory()
    {
        var user = await _client.RegisterAsync();

        var created = await _client.ApiPostAsync("/api/v1/chat/sessions", new { title = "Planning" }, user.AccessToken);
        var sessionId = created.Data["id"]!.GetValue<string>();
        var first = await _client.ApiPostAsync("/api/v1/chat/messages", new { sessionId, message = "Plan my day" }, user.AccessToken);
        var (_, streamed) = await _client.StreamAsync(user, "/api/v1/chat/messages", new { sessionId, message = "And tomorrow?", stream = true });

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("session", created.Data["kind"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal("echo: Plan my day", first.Data["response"]!.GetValue<string>());
        // No Chat:DefaultModel: the workspace's first chat model, gpt-test (served upstream as upstream-gpt).
        Assert.Equal("upstream-gpt", LastUpstreamChat()["model"]!.GetValue<string>());
        Assert.Equal(["Plan my day", "echo: Plan my day", "And tomorrow?"], Contents(LastUpstreamChat()));
        Assert.Equal("end", streamed[^1].Type);
        var messages = await _client.HistoryAsync(user, "sessionId=" + sessionId);
        Assert.Equal(4, messages.Count);
        var sessions = await _client.HistoryAsync(user, "");
        Assert.Equal("Planning", Assert.Single(sessions)["title"]!.GetValue<string>());
        var missing = await _client.ApiPostAsync("/api/v1/chat/messages", new { sessionId = "ses_nope", message = "hi" }, user.AccessToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
    }

    [Fact]
    public async Task Sessions_OverAnApp_UseItsConfig()
    {
        var (user, appId) = await ChatbotAsync(new { model = "solo", systemPrompt = "You plan." });
        var sessionId = (await _client.ApiPostAsync("/api/v1/chat/sessions", new { appId }, user.AccessToken)).Data["id"]!.GetValue<string>();

        var answered = await _client.ApiPostAsync("/api/v1/chat/messages", new { sessionId, message = "Go" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.OK, answered.Status);
        Assert.Equal("solo", LastUpstreamChat()["model"]!.GetValue<string>());
        Assert.Equal(["You plan.", "Go"], Contents(LastUpstreamChat()));
        Assert.Single(await _client.HistoryAsync(user, "appId=" + appId));
    }

    [Fact]
    public async Task AnotherWorkspacesAppChatOrSession_IsNotFound()
    {
        var (owner, appId) = await ChatbotAsync();
        var chatId = (await _client.ChatAsync(owner, new { appId, message = "secret" }))["chatId"]!.GetValue<string>();
        var sessionId = (await _client.ApiPostAsync("/api/v1/chat/sessions", new { }, owner.AccessToken)).Data["id"]!.GetValue<string>();
        var (stranger, strangersApp) = await ChatbotAsync();

        var results = new[]
        {
            await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "hi" }, stranger.AccessToken),
            await _client.ApiPostAsync("/api/v1/chat/completions", new { appId = strangersApp, chatId, message = "hi" }, stranger.AccessToken),
            await _client.ApiGetAsync("/api/v1/chat/history?chatId=" + chatId, stranger.AccessToken),
            await _client.ApiGetAsync("/api/v1/chat/history?sessionId=" + sessionId, stranger.AccessToken),
            await _client.ApiDeleteAsync("/api/v1/chat/history/" + chatId, stranger.AccessToken),
            await _client.ApiPostAsync("/api/v1/chat/feedback", new { chatId, messageId = "msg1", rating = "up" }, stranger.AccessToken),
            await _client.ApiPostAsync("/api/v1/chat/messages", new { sessionId, message = "hi" }, stranger.AccessToken),
            await _client.ApiPostAsync("/api/v1/chat/sessions", new { appId }, stranger.AccessToken),
        };

        Assert.All(results, r => Assert.Equal(HttpStatusCode.NotFound, r.Status));
        Assert.All(results, r => Assert.Equal("NOT_FOUND", r.ErrorCode));
        Assert.Empty(await _client.HistoryAsync(stranger, "appId=" + appId));
        Assert.Equal(2, (await _client.HistoryAsync(owner, "chatId=" + chatId)).Count);
    }

    [Fact]
    public async Task Chats_ArePrivateToTheirUser_EvenInASharedWorkspace_AndNeedTheChatScopes()
    {
        var (owner, appId) = await ChatbotAsync();
        var colleague = await _client.RegisterAsync();
        var workspace = (await _client.ApiPostAsync("/api/v1/workspaces", new { name = "Team" }, owner.AccessToken)).Data["id"]!.GetValue<string>();
        var added = await _client.ApiPostAsync($"/api/v1/workspaces/{workspace}/members", new { email = colleague.Email, role = "member" }, owner.AccessToken);
        Assert.True(added.Status is HttpStatusCode.Created or HttpStatusCode.OK, added.Body?.ToJsonString());
        var inTeam = new Dictionary<string, string> { ["X-Workspace-Id"] = workspace };
        var teamApp = await _client.ApiPostAsync("/api/v1/apps", new { name = "Team bot", config = new { model = "gpt-test" } }, owner.AccessToken, inTeam);
        var teamAppId = teamApp.Data["id"]!.GetValue<string>();
        var chat = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId = teamAppId, message = "mine" }, owner.AccessToken, inTeam);
        var chatId = chat.Data["chatId"]!.GetValue<string>();

        var colleagueReads = await _client.ApiGetAsync("/api/v1/chat/history?chatId=" + chatId, colleague.AccessToken, inTeam);
        var colleagueList = await _client.ApiGetAsync("/api/v1/chat/history?appId=" + teamAppId, colleague.AccessToken, inTeam);
        var colleagueOwnChat = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId = teamAppId, message = "hers" }, colleague.AccessToken, inTeam);
        var readOnlyKey = await _client.CreateKeyAsync(owner, ["chat:read"]);
        var keyWrites = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "hi" }, null, Users.ApiKey(readOnlyKey));
        var keyReads = await _client.ApiGetAsync("/api/v1/chat/history", null, Users.ApiKey(readOnlyKey));

        Assert.Equal(HttpStatusCode.NotFound, colleagueReads.Status);
        Assert.Empty(colleagueList.Data.AsArray());
        Assert.Equal(HttpStatusCode.OK, colleagueOwnChat.Status);
        Assert.Equal(HttpStatusCode.Forbidden, keyWrites.Status);
        Assert.Equal(HttpStatusCode.OK, keyReads.Status);
    }

    [Fact]
    public async Task ChatId_OfAnotherAppInTheSameWorkspace_IsNotFound()
    {
        var (user, appId) = await ChatbotAsync();
        var otherApp = await _client.CreateAppAsync(user, new { model = "gpt-test" });
        var chatId = (await _client.ChatAsync(user, new { appId, message = "hi" }))["chatId"]!.GetValue<string>();

        var crossed = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId = otherApp, chatId, message = "hi" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, crossed.Status);
    }

    [Fact]
    public async Task Completion_WithAKeyWhoseAllowListLacksTheAppsModel_Is403_AndAnAllowedOneAnswers()
    {
        var (user, appId) = await ChatbotAsync();
        var soloApp = await _client.CreateAppAsync(user, new { model = "solo" });
        var created = await _client.ApiPostAsync("/api/v1/user/api-keys",
            new { name = "chat", scopes = new[] { "chat:read", "chat:write" }, allowedModels = new[] { "solo" } }, user.AccessToken);
        var key = Users.ApiKey(created.Data["key"]!.GetValue<string>());

        var refused = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "hi" }, null, key);
        var allowed = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId = soloApp, message = "hi" }, null, key);

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("FORBIDDEN", refused.ErrorCode);
        Assert.Equal(HttpStatusCode.OK, allowed.Status);
        // The refused call never went upstream, so the one usage row is the allowed call, under the key, as chat.
        var row = Assert.Single(await _client.WaitForUsageAsync(user.AccessToken));
        Assert.Equal("chat", row["source"]!.GetValue<string>());
        Assert.Equal("solo", row["model"]!.GetValue<string>());
        Assert.NotNull(row["apiKeyId"]);
    }

    [Fact]
    public async Task UpstreamFailure_Is502_OrAnErrorEventWhenTheStreamBreaksOff()
    {
        var (user, appId) = await ChatbotAsync();
        ApiResponse failed;
        HttpResponseMessage refusedStream;
        using (fixture.FailEveryUpstream())
        {
            failed = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "hi" }, user.AccessToken);
            (refusedStream, _) = await _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, message = "hi", stream = true });
        }

        // Past the first byte the gateway no longer retries: the break must reach the client as an error event.
        EnqueueStreamBreakingAfter("Half");
        var (_, events) = await _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, message = "hi", stream = true });

        Assert.Equal(HttpStatusCode.BadGateway, failed.Status);
        Assert.Equal("AI_SERVICE_ERROR", failed.ErrorCode);
        Assert.Equal(HttpStatusCode.BadGateway, refusedStream.StatusCode);
        Assert.Equal(["start", "token", "error"], events.Select(e => e.Type));
        Assert.Equal("AI_SERVICE_ERROR", events[^1].Data["code"]!.GetValue<string>());
        // Nothing of a failed turn is kept, not even the chat it opened.
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync("/api/v1/chat/history?chatId=" + events[0].Data["chatId"]!.GetValue<string>(), user.AccessToken)).Status);
        Assert.Empty(await _client.HistoryAsync(user, "appId=" + appId));
    }

    [Fact]
    public async Task Completion_OfAnAppWithDatasets_RetrievesFirst_AndReturnsAndStoresTheCitations()
    {
        var (user, appId) = await ChatbotAsync(new { model = "gpt-test", systemPrompt = "You answer support questions.", datasetIds = new[] { "ds_help" } });

        var answer = await _client.ChatAsync(user, new { appId, message = "How long do refunds take?" });
        var (_, events) = await _client.StreamAsync(user, "/api/v1/chat/completions", new { appId, message = "And shipping?", stream = true });

        var request = fixture.Retriever.Requests.Last(r => r.Query == "How long do refunds take?");
        Assert.Equal(user.PersonalWorkspaceId, request.WorkspaceId);
        Assert.Equal(["ds_help"], request.DatasetIds);
        var citations = answer["citations"]!.AsArray();
        Assert.Equal(2, citations.Count);
        Assert.Equal(1, citations[0]!["citation"]!.GetValue<int>());
        Assert.Equal("doc_1", citations[0]!["documentId"]!.GetValue<string>());
        Assert.Equal("ds_help", citations[0]!["datasetId"]!.GetValue<string>());
        Assert.Equal("Refunds take 5 days.", citations[0]!["content"]!.GetValue<string>());
        var system = Contents(LastUpstreamChat())[0];
        Assert.StartsWith("You answer support questions.", system, StringComparison.Ordinal);
        Assert.Contains("[1] Refunds: Refunds take 5 days.", system, StringComparison.Ordinal);
        Assert.Contains("[n]", system, StringComparison.Ordinal);
        Assert.Equal(2, events[^1].Data["citations"]!.AsArray().Count);
        var stored = await _client.HistoryAsync(user, "chatId=" + answer["chatId"]!.GetValue<string>());
        Assert.Equal(2, stored[1]["citations"]!.AsArray().Count);
    }

    [Fact]
    public async Task Completion_OfAnAppWhoseDatasetIsGone_IsAConflict()
    {
        var (user, appId) = await ChatbotAsync(new { model = "gpt-test", datasetIds = new[] { "ds_missing" } });

        var answered = await _client.ApiPostAsync("/api/v1/chat/completions", new { appId, message = "hi" }, user.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, answered.Status);
        Assert.Contains("ds_missing", answered.Body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
