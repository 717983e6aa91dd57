using System.Net;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Credits;

/// <summary>The gateway fixture with credits on (1 credit = 0.01 USD) and the trigger host running workflow runs.</summary>
public sealed class CreditsFixture : GatewayFixture
{
    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Credits:Enabled"] = "true",
        ["Credits:CreditsPerUsd"] = "100",
        ["Triggers:Enabled"] = "true",
        ["Workflows:HeartbeatSeconds"] = "1",
    };
}

/// <summary>
/// A chat call of the fakes costs 10 × 1.0/1K + 5 × 2.0/1K = 0.02 USD = 2 credits. With max_tokens 5 its reservation is
/// the estimated prompt (about 16 tokens) plus 5 completion tokens, rounded up: 3 credits.
/// </summary>
public sealed class CreditsTests(CreditsFixture fixture) : IClassFixture<CreditsFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private static object Chat(int? maxTokens = 5) => maxTokens is { } max
        ? new { model = "gpt-test", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = max }
        : new { model = "gpt-test", messages = new[] { new { role = "user", content = "hi" } } };

    private Task<ApiResponse> GrantAsync(string userId, long amount, string? type = null) =>
        _client.ApiPostAsync("/api/v1/admin/credits", new { userId, amount, reason = "test", type }, fixture.Operator.AccessToken);

    private async Task<long> BalanceAsync(TestUser user) =>
        (await _client.ApiGetAsync("/api/v1/credits", user.AccessToken)).Data["balance"]!.GetValue<long>();

    private async Task<List<JsonNode>> TransactionsAsync(TestUser user, string? type = null)
    {
        var response = await _client.ApiGetAsync("/api/v1/credits/transactions?limit=100" + (type is null ? "" : "&type=" + type), user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        return [.. response.Data.AsArray().Select(t => t!)];
    }

    [Fact]
    public async Task Grant_ByAdmin_RaisesTheBalance_AndOnlyThatUserSeesIt()
    {
        var user = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();

        var granted = await GrantAsync(user.Id, 100);

        Assert.Equal(HttpStatusCode.Created, granted.Status);
        Assert.Equal("GRANT", granted.Data["transaction"]!["type"]!.GetValue<string>());
        Assert.Equal(100, granted.Data["balance"]!["balance"]!.GetValue<long>());
        var mine = await _client.ApiGetAsync("/api/v1/credits", user.AccessToken);
        Assert.Equal(100, mine.Data["balance"]!.GetValue<long>());
        Assert.Equal(100, mine.Data["available"]!.GetValue<long>());
        Assert.Equal(100, mine.Data["creditsPerUsd"]!.GetValue<int>());
        var transaction = Assert.Single(await TransactionsAsync(user));
        Assert.Equal(100, transaction["amount"]!.GetValue<long>());
        Assert.Equal(fixture.Operator.Id, transaction["actorId"]!.GetValue<string>());
        Assert.Equal(0, await BalanceAsync(other));
        Assert.Empty(await TransactionsAsync(other));
    }

    [Fact]
    public async Task Admin_ListsBalances_AndTransactions_FilteredByUser()
    {
        var user = await _client.RegisterAsync();
        await GrantAsync(user.Id, 7, "TOP_UP");
        await GrantAsync(user.Id, 3, "REFUND");

        var transactions = await _client.ApiGetAsync($"/api/v1/admin/credits/transactions?userId={user.Id}", fixture.Operator.AccessToken);
        var all = await _client.ApiGetAsync("/api/v1/admin/credits/transactions?type=REFUND&limit=100", fixture.Operator.AccessToken);
        var firstPage = await _client.ApiGetAsync("/api/v1/admin/credits?limit=1", fixture.Operator.AccessToken);
        var balances = await CollectAsync("/api/v1/admin/credits?limit=2");

        Assert.Equal(["REFUND", "TOP_UP"], transactions.Data.AsArray().Select(t => t!["type"]!.GetValue<string>()));
        Assert.Contains(all.Data.AsArray(), t => t!["userId"]!.GetValue<string>() == user.Id);
        Assert.All(all.Data.AsArray(), t => Assert.Equal("REFUND", t!["type"]!.GetValue<string>()));
        Assert.True(firstPage.Body!["pagination"]!["hasMore"]!.GetValue<bool>());
        Assert.Equal(10, balances.Single(b => b["userId"]!.GetValue<string>() == user.Id)["balance"]!.GetValue<long>());
    }

    private async Task<List<JsonNode>> CollectAsync(string url)
    {
        var items = new List<JsonNode>();
        string? cursor = null;
        do
        {
            var page = await _client.ApiGetAsync(url + (cursor is null ? "" : "&cursor=" + cursor), fixture.Operator.AccessToken);
            Assert.Equal(HttpStatusCode.OK, page.Status);
            items.AddRange(page.Data.AsArray().Select(i => i!));
            cursor = page.Body!["pagination"]!["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return items;
    }

    [Fact]
    public async Task NegativeAdjustment_BelowZero_Is409_AndTheBalanceStays()
    {
        var user = await _client.RegisterAsync();
        await GrantAsync(user.Id, 10);

        var tooMuch = await GrantAsync(user.Id, -11);
        var exact = await GrantAsync(user.Id, -10);

        Assert.Equal(HttpStatusCode.Conflict, tooMuch.Status);
        Assert.Equal("CONFLICT", tooMuch.ErrorCode);
        Assert.Equal(HttpStatusCode.Created, exact.Status);
        Assert.Equal(0, await BalanceAsync(user));
        Assert.Equal([-10, 10], (await TransactionsAsync(user)).Select(t => t["amount"]!.GetValue<long>()));
    }

    [Fact]
    public async Task AdminRoutes_ForOrdinaryUsers_Are403()
    {
        var user = await _client.RegisterAsync();

        var responses = new[]
        {
            await _client.ApiGetAsync("/api/v1/admin/credits", user.AccessToken),
            await _client.ApiPostAsync("/api/v1/admin/credits", new { userId = user.Id, amount = 5, reason = "self" }, user.AccessToken),
            await _client.ApiGetAsync("/api/v1/admin/credits/transactions", user.AccessToken),
        };

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Forbidden, r.Status));
        Assert.All(responses, r => Assert.Equal("FORBIDDEN", r.ErrorCode));
        Assert.Equal(0, await BalanceAsync(user));
    }

    [Fact]
    public async Task BadInput_IsAnErrorEnvelope_NeverA500()
    {
        var user = await _client.RegisterAsync();
        var admin = fixture.Operator.AccessToken;

        var missing = await _client.ApiPostAsync("/api/v1/admin/credits", new { }, admin);
        var zero = await _client.ApiPostAsync("/api/v1/admin/credits", new { userId = user.Id, amount = 0, reason = "x" }, admin);
        var usage = await _client.ApiPostAsync("/api/v1/admin/credits", new { userId = user.Id, amount = 5, reason = "x", type = "USAGE" }, admin);
        var fraction = await _client.ApiPostAsync("/api/v1/admin/credits", "{\"userId\":\"" + user.Id + "\",\"amount\":1.5,\"reason\":\"x\"}", admin);
        var text = await _client.ApiPostAsync("/api/v1/admin/credits", "{\"userId\":\"" + user.Id + "\",\"amount\":\"lots\",\"reason\":\"x\"}", admin);
        var broken = await _client.ApiPostAsync("/api/v1/admin/credits", "{\"userId\":", admin);
        var unknown = await _client.ApiPostAsync("/api/v1/admin/credits", new { userId = "usr_nobody", amount = 5, reason = "x" }, admin);
        var illegal = await _client.ApiPostAsync("/api/v1/admin/credits", new { userId = "a/b#c", amount = 5, reason = "x" }, admin);
        var cursor = await _client.ApiGetAsync("/api/v1/credits/transactions?cursor=bm9wZQ", user.AccessToken);
        var forged = await _client.ApiGetAsync("/api/v1/credits/transactions?cursor=" + Convert.ToBase64String("x\0y"u8).TrimEnd('='), user.AccessToken);
        var type = await _client.ApiGetAsync("/api/v1/credits/transactions?type=FREE", user.AccessToken);
        var sort = await _client.ApiGetAsync("/api/v1/admin/credits?sortBy=balance", admin);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, missing.Status);
        Assert.Equal(["userId", "amount", "reason"], missing.Body!["error"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, zero.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, usage.Status);
        Assert.Equal(HttpStatusCode.BadRequest, fraction.Status);
        Assert.Equal(HttpStatusCode.BadRequest, text.Status);
        Assert.Equal(HttpStatusCode.BadRequest, broken.Status);
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal(HttpStatusCode.NotFound, illegal.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, cursor.Status);
        Assert.True(forged.Status is HttpStatusCode.OK or HttpStatusCode.UnprocessableEntity, forged.Status.ToString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, type.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, sort.Status);
        Assert.All(new[] { missing, zero, usage, fraction, text, broken, unknown, cursor, type, sort }, r => Assert.False(r.Body!["success"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task ModelCall_ReducesTheBalanceByItsCost_AndWritesAUsageTransaction()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await GrantAsync(user.Id, 100);

        var chat = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        var embedding = await _client.ApiPostAsync("/v1/embeddings", new { model = "embed-test", input = "e" }, key);

        Assert.Equal(HttpStatusCode.OK, chat.Status);
        Assert.Equal(HttpStatusCode.OK, embedding.Status);
        var balance = (await _client.ApiGetAsync("/api/v1/credits", user.AccessToken)).Data;
        // Chat 0.02 USD = 2 credits; the embedding 10 × 0.5/1K = 0.005 USD, rounded up to 1.
        Assert.Equal(97, balance["balance"]!.GetValue<long>());
        Assert.Equal(0, balance["reserved"]!.GetValue<long>());
        var usage = await TransactionsAsync(user, "USAGE");
        Assert.Equal([-1, -2], usage.Select(t => t["amount"]!.GetValue<long>()));
        Assert.Equal(0.02m, usage[1]["costUsd"]!.GetValue<decimal>());
        Assert.Equal("gpt-test", usage[1]["model"]!.GetValue<string>());
        var rows = await _client.WaitForUsageAsync(user.AccessToken, 2);
        Assert.Contains(rows, r => r["id"]!.GetValue<string>() == usage[1]["usageId"]!.GetValue<string>());
    }

    [Fact]
    public async Task StreamedCall_IsChargedWhenTheStreamEnds()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await GrantAsync(user.Id, 50);

        var streamed = await _client.ApiPostAsync("/v1/chat/completions",
            new { model = "gpt-test", messages = new[] { new { role = "user", content = "s" } }, stream = true, max_tokens = 5 }, key);

        Assert.Equal(HttpStatusCode.OK, streamed.Status);
        Assert.Equal(48, await BalanceAsync(user));
        Assert.Equal(-2, Assert.Single(await TransactionsAsync(user, "USAGE"))["amount"]!.GetValue<long>());
    }

    [Fact]
    public async Task InsufficientBalance_Is402QuotaExceeded_BeforeTheUpstreamCall()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await GrantAsync(user.Id, 2);
        var before = fixture.Primary.Received.Count + fixture.Secondary.Received.Count;

        // Without max_tokens the reservation covers Credits__ReserveCompletionTokens: far more than 2 credits.
        var chat = await _client.ApiPostAsync("/v1/chat/completions", Chat(maxTokens: null), key);
        var noCredits = await _client.RegisterAsync();
        var native = await _client.ApiPostAsync("/api/v1/assistant/chat", new { message = "hi", model = "gpt-test" }, noCredits.AccessToken);

        Assert.Equal(HttpStatusCode.PaymentRequired, chat.Status);
        Assert.Equal("insufficient_quota", chat.Body!["error"]!["type"]!.GetValue<string>());
        Assert.Contains("credits", chat.Body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, fixture.Primary.Received.Count + fixture.Secondary.Received.Count);
        Assert.Equal(2, await BalanceAsync(user));
        Assert.Empty(await TransactionsAsync(user, "USAGE"));
        Assert.Equal(HttpStatusCode.PaymentRequired, native.Status);
        Assert.Equal("QUOTA_EXCEEDED", native.ErrorCode);
    }

    [Fact]
    public async Task OllamaGenerate_IsPaidFromCredits_AndRefusedWithoutThem()
    {
        var user = await _client.RegisterAsync();
        var broke = await _client.RegisterAsync();
        await GrantAsync(user.Id, 5);
        var before = fixture.Primary.Received.Count(r => r.Path == "/api/generate");

        var paid = await _client.ApiPostAsync("/api/v1/ollama/generate", new { model = "llama3.2:1b", prompt = "hi", options = new { num_predict = 5 } }, user.AccessToken);
        var refused = await _client.ApiPostAsync("/api/v1/ollama/generate", new { model = "llama3.2:1b", prompt = "hi" }, broke.AccessToken);

        Assert.Equal(HttpStatusCode.OK, paid.Status);
        // 7 × 0.1/1K + 3 × 0.1/1K = 0.001 USD, rounded up to 1 credit.
        Assert.Equal(4, await BalanceAsync(user));
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.Status);
        Assert.Equal("QUOTA_EXCEEDED", refused.ErrorCode);
        Assert.Equal(1, fixture.Primary.Received.Count(r => r.Path == "/api/generate") - before);
    }

    [Fact]
    public async Task ConcurrentCalls_OnASmallBalance_NeverOverdraw_AndUsageSumsToTheDrop()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await GrantAsync(user.Id, 11);
        var before = fixture.Primary.Received.Count(r => r.Path == "/v1/chat/completions");
        // Slow answers keep the calls in flight together, so their reservations compete.
        fixture.Primary.Always = async (_, _) =>
        {
            await Task.Delay(100);
            return false;
        };
        List<ApiResponse> responses;
        try
        {
            responses = [.. await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => _client.ApiPostAsync("/v1/chat/completions", Chat(), key)))];
        }
        finally
        {
            fixture.Primary.Always = null;
        }

        var succeeded = responses.Count(r => r.Status == HttpStatusCode.OK);
        Assert.All(responses, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.PaymentRequired, r.Status.ToString()));
        Assert.InRange(succeeded, 1, 5);
        var balance = (await _client.ApiGetAsync("/api/v1/credits", user.AccessToken)).Data;
        Assert.InRange(balance["balance"]!.GetValue<long>(), 0, 11);
        Assert.Equal(0, balance["reserved"]!.GetValue<long>());
        var usage = await TransactionsAsync(user, "USAGE");
        Assert.Equal(succeeded, usage.Count);
        Assert.Equal(11 - balance["balance"]!.GetValue<long>(), -usage.Sum(t => t["amount"]!.GetValue<long>()));
        Assert.Equal(succeeded, fixture.Primary.Received.Count(r => r.Path == "/v1/chat/completions") - before);
    }

    [Fact]
    public async Task WorkflowRun_LlmNode_IsPaidByTheUserTheRunActsAs()
    {
        var user = await _client.RegisterAsync();
        var other = await _client.RegisterAsync();
        await GrantAsync(user.Id, 10);
        await GrantAsync(other.Id, 10);
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { text = "{{a.text}}" },
            Node("a", "llm", new { model = "gpt-test", userPrompt = "hi", maxTokens = 5 })));

        var run = await _client.RunAsync(user, workflow);

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(8, await BalanceAsync(user));
        Assert.Equal(10, await BalanceAsync(other));
        var usage = Assert.Single(await TransactionsAsync(user, "USAGE"));
        Assert.Equal(user.PersonalWorkspaceId, usage["workspaceId"]!.GetValue<string>());
    }

    [Fact]
    public async Task WebhookRun_WithoutACaller_IsPaidByTheTriggersCreator()
    {
        var user = await _client.RegisterAsync();
        await GrantAsync(user.Id, 10);
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { text = "{{a.text}}" },
            Node("a", "llm", new { model = "gpt-test", userPrompt = "hi", maxTokens = 5 })));
        var trigger = await _client.ApiPostAsync($"/api/v1/workflows/{workflow}/triggers", new { type = "webhook" }, user.AccessToken);

        var called = await _client.ApiPostAsync(trigger.Data["url"]!.GetValue<string>(), """{"x":1}""");
        var run = await _client.WaitForAsync(user, called.Data["executionId"]!.GetValue<string>());

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(8, await BalanceAsync(user));
    }

    [Fact]
    public async Task ActualCost_AboveTheReservation_IsClampedToTheBalance_NeverBelowZero()
    {
        var (user, key) = await fixture.UserWithKeyAsync();
        await GrantAsync(user.Id, 10);
        // The provider ignores max_tokens: 10 × 1.0/1K + 500 × 2.0/1K = 1.01 USD = 101 credits, against 3 reserved.
        fixture.Primary.CompletionTokens = 500;
        ApiResponse chat;
        try
        {
            chat = await _client.ApiPostAsync("/v1/chat/completions", Chat(), key);
        }
        finally
        {
            fixture.Primary.CompletionTokens = 5;
        }

        Assert.Equal(HttpStatusCode.OK, chat.Status);
        Assert.Equal(0, await BalanceAsync(user));
        var usage = Assert.Single(await TransactionsAsync(user, "USAGE"));
        Assert.Equal(-10, usage["amount"]!.GetValue<long>());
        Assert.Equal(1.01m, usage["costUsd"]!.GetValue<decimal>());
        Assert.Equal(HttpStatusCode.PaymentRequired, (await _client.ApiPostAsync("/v1/chat/completions", Chat(), key)).Status);
    }

    [Fact]
    public async Task WorkflowRun_WithoutCredits_FailsItsLlmNode_WithoutCallingTheProvider()
    {
        var user = await _client.RegisterAsync();
        var workflow = await _client.CreateWorkflowAsync(user, Line(new { text = "{{a.text}}" },
            Node("a", "llm", new { model = "gpt-test", userPrompt = "hi", maxTokens = 5 })));
        var before = fixture.Primary.Received.Count + fixture.Secondary.Received.Count;

        var run = await _client.RunAsync(user, workflow);

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Equal("QUOTA_EXCEEDED", NodeOf(await _client.GetExecutionAsync(user, run["executionId"]!.GetValue<string>()), "a")["error"]!["details"]!["code"]!.GetValue<string>());
        Assert.Equal(before, fixture.Primary.Received.Count + fixture.Secondary.Received.Count);
    }
}
