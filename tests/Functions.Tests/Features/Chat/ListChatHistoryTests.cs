using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Chat;
using Serverless.Orchestrations.Ports;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Chat;

/// <summary>Chat lists and a turn's history read pages of the store, not whole chats or workspaces.</summary>
public sealed partial class ChatTests
{
    private ChatStore Store => fixture.Factory.Services.GetRequiredService<ChatStore>();

    private int Scanned(string table) => fixture.RowsScanned.GetValueOrDefault(table);

    /// <summary>A chat of <paramref name="turns"/> stored question-answer pairs ("q0", "a0", …), written straight to the store.</summary>
    private async Task<ChatRecord> StoredChatAsync(TestUser user, string appId, int turns)
    {
        var chat = await Store.CreateAsync(user.PersonalWorkspaceId, user.Id, appId, ChatStore.KindChat, "long chat", CancellationToken.None);
        // Read while empty, as a chat's second turn reads it small: the store then never has a long chat to index.
        Assert.Empty(await Store.RecentAsync(chat.Id, 1, CancellationToken.None));
        var messages = Enumerable.Range(0, turns).SelectMany(i => new[]
        {
            new ChatMessageRecord("", "", ChatRoles.User, $"q{i}", null, null, null, null, default),
            new ChatMessageRecord("", "", ChatRoles.Assistant, $"a{i}", null, null, null, null, default),
        });
        Assert.NotNull(await Store.AppendAsync(chat, [.. messages], CancellationToken.None));
        return chat;
    }

    [Fact]
    public async Task ChatList_SeveralPagesOfASmallLimit_AreCompleteAndInOrder()
    {
        var (user, appId) = await ChatbotAsync();
        var otherApp = await _client.CreateAppAsync(user, new { model = "gpt-test" });
        var started = new List<string>();
        foreach (var (app, text) in new[] { (appId, "one"), (otherApp, "two"), (appId, "three"), (appId, "four"), (otherApp, "five") })
        {
            started.Add((await _client.ChatAsync(user, new { appId = app, message = text }))["chatId"]!.GetValue<string>());
        }

        // A new turn moves the first chat to the top of the latest-first list.
        await _client.ChatAsync(user, new { appId, chatId = started[0], message = "again" });

        var latest = await _client.WalkAsync("/api/v1/chat/history", 2, user.AccessToken);
        var ofApp = await _client.WalkAsync("/api/v1/chat/history?appId=" + appId, 2, user.AccessToken);
        var byTitle = await _client.WalkAsync("/api/v1/chat/history?sortBy=title&sortOrder=asc", 2, user.AccessToken);

        Assert.Equal([started[0], started[4], started[3], started[2], started[1]], latest.Select(c => c["id"]!.GetValue<string>()));
        Assert.Equal([started[0], started[3], started[2]], ofApp.Select(c => c["id"]!.GetValue<string>()));
        Assert.Equal(["five", "four", "one", "three", "two"], byTitle.Select(c => c["title"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ChatList_WithManyChatsOfAnotherUserInTheWorkspace_ListsOnlyTheCallersAndDoesNotReadTheOthers()
    {
        var (owner, appId) = await ChatbotAsync();
        var colleague = await _client.RegisterAsync();
        var added = await _client.ApiPostAsync($"/api/v1/workspaces/{owner.PersonalWorkspaceId}/members", new { email = colleague.Email, role = "member" }, owner.AccessToken);
        Assert.Equal(HttpStatusCode.Created, added.Status);
        var mine = (await _client.ChatAsync(owner, new { appId, message = "mine" }))["chatId"]!.GetValue<string>();
        for (var i = 0; i < 300; i++)
        {
            await Store.CreateAsync(owner.PersonalWorkspaceId, colleague.Id, appId, ChatStore.KindChat, $"theirs {i}", CancellationToken.None);
        }

        var before = Scanned("chats");
        var listed = await _client.ApiGetAsync("/api/v1/chat/history?limit=5", owner.AccessToken);
        var ofApp = await _client.ApiGetAsync("/api/v1/chat/history?limit=5&appId=" + appId, owner.AccessToken);
        var scanned = Scanned("chats") - before;
        var theirs = await _client.ApiGetAsync("/api/v1/chat/history?limit=100", colleague.AccessToken, new Dictionary<string, string> { ["X-Workspace-Id"] = owner.PersonalWorkspaceId });

        Assert.Equal([mine], listed.Data.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        Assert.False(listed.Body!["pagination"]!["hasMore"]!.GetValue<bool>());
        Assert.Equal([mine], ofApp.Data.AsArray().Select(c => c!["id"]!.GetValue<string>()));
        // Each list reads its own index rows (one chat and the end of the run), never the colleague's 300 chats.
        Assert.InRange(scanned, 1, 10);
        Assert.Equal(100, theirs.Data.AsArray().Count);
        Assert.DoesNotContain(theirs.Data.AsArray(), c => c!["id"]!.GetValue<string>() == mine);
    }

    [Fact]
    public async Task Messages_SeveralPagesOfASmallLimit_AreCompleteAndInOrderBothWays()
    {
        var (user, appId) = await ChatbotAsync();
        var chat = await StoredChatAsync(user, appId, 20);
        var expected = Enumerable.Range(0, 20).SelectMany(i => new[] { $"q{i}", $"a{i}" }).ToList();

        var oldestFirst = await _client.WalkAsync("/api/v1/chat/history?chatId=" + chat.Id, 7, user.AccessToken);
        var newestFirst = await _client.WalkAsync("/api/v1/chat/history?sortOrder=desc&sortBy=createdAt&chatId=" + chat.Id, 7, user.AccessToken);

        Assert.Equal(expected, oldestFirst.Select(m => m["content"]!.GetValue<string>()));
        Assert.Equal(Enumerable.Reverse(expected), newestFirst.Select(m => m["content"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Turn_InALongChat_SendsExactlyTheNewestMessagesInOrder_ReadingOnlyThem()
    {
        var (user, appId) = await ChatbotAsync(new { model = "gpt-test" });
        var chat = await StoredChatAsync(user, appId, 150);

        var before = Scanned("chatmessages");
        await _client.ChatAsync(user, new { appId, chatId = chat.Id, message = "next" });
        var scanned = Scanned("chatmessages") - before;

        // The default Chat:HistoryMessages is 20: the last ten stored turns, oldest first, then the new message.
        var expected = Enumerable.Range(140, 10).SelectMany(i => new[] { $"q{i}", $"a{i}" }).Append("next");
        Assert.Equal(expected, Contents(LastUpstreamChat()));
        Assert.InRange(scanned, 20, 25);
    }

    [Fact]
    public async Task Delete_OfALongChat_RemovesEveryMessageAndIndexRow()
    {
        var (user, appId) = await ChatbotAsync();
        var chat = await StoredChatAsync(user, appId, 120);
        await _client.HistoryAsync(user, "chatId=" + chat.Id);

        var deleted = await _client.ApiDeleteAsync("/api/v1/chat/history/" + chat.Id, user.AccessToken);

        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        var rows = await fixture.Factory.Services.GetRequiredService<IEntityStore>()
            .QueryAsync("chatmessages", new EntityQuery { PartitionKey = chat.Id }, CancellationToken.None);
        Assert.Empty(rows.Items);
    }

    [Fact]
    public async Task ChatList_CursorOfAnotherOrder_Is422()
    {
        var (user, appId) = await ChatbotAsync();
        await _client.ChatAsync(user, new { appId, message = "one" });
        await _client.ChatAsync(user, new { appId, message = "two" });

        var byTitle = await _client.CursorAsync("/api/v1/chat/history?sortBy=title", 1, user.AccessToken);
        var ofChats = await _client.PageAfterAsync("/api/v1/chat/history", byTitle, user.AccessToken);
        var ofOtherApp = await _client.PageAfterAsync("/api/v1/chat/history?sortBy=title&appId=" + appId, byTitle, user.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, ofChats.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ofOtherApp.Status);
    }
}
