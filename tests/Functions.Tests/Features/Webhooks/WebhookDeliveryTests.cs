using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Webhooks;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Webhooks;

public sealed class WebhookDeliveryTests : WebhookTestBase
{
    [Fact]
    public async Task Delivery_IsSignedWithTheSecret_AndCarriesTheStableEventId()
    {
        var webhook = await CreateWebhookAsync("/ok", ["dataset.completed"]);
        var eventId = await RecordEventAsync("dataset.completed", new JsonObject { ["datasetId"] = "ds_1", ["documents"] = 2 });

        await DrainAsync();

        var received = Assert.Single(Receiver.Received);
        var secret = webhook["secret"]!.GetValue<string>();
        var timestamp = received.Headers["X-Webhook-Timestamp"];
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{received.Body}")));
        Assert.Equal(expected, received.Headers["X-Webhook-Signature"]);
        Assert.Equal(webhook["id"]!.GetValue<string>(), received.Headers["X-Webhook-Id"]);
        Assert.Equal("dataset.completed", received.Headers["X-Webhook-Event"]);
        Assert.InRange(long.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture), Factory.Clock.GetUtcNow().ToUnixTimeSeconds() - 5, Factory.Clock.GetUtcNow().ToUnixTimeSeconds());
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal(eventId, body["id"]!.GetValue<string>());
        Assert.Equal("dataset.completed", body["event"]!.GetValue<string>());
        Assert.Equal("ds_1", body["data"]!["datasetId"]!.GetValue<string>());
        Assert.NotNull(body["timestamp"]);

        var delivery = await OnlyDeliveryAsync(webhook["id"]!.GetValue<string>());
        Assert.Equal("delivered", delivery["status"]!.GetValue<string>());
        Assert.Equal(200, delivery["responseCode"]!.GetValue<int>());
        Assert.Equal(1, delivery["attempt"]!.GetValue<int>());
        Assert.Equal(eventId, delivery["eventId"]!.GetValue<string>());
        Assert.Equal("thanks", delivery["responseBody"]!.GetValue<string>());
        Assert.NotNull(delivery["latencyMs"]);
    }

    [Fact]
    public async Task Event_GoesOnlyToActiveWebhooksSubscribedToIt_AndARepeatedDispatchCreatesNothingNew()
    {
        var subscribed = (await CreateWebhookAsync("/ok", ["workflow.completed"]))["id"]!.GetValue<string>();
        var other = (await CreateWebhookAsync("/ok", ["workflow.failed"]))["id"]!.GetValue<string>();
        var inactive = (await CreateWebhookAsync("/ok", ["workflow.completed"]))["id"]!.GetValue<string>();
        await Client.ApiPutAsync($"/api/v1/webhooks/{inactive}", new { active = false }, Owner.AccessToken);
        var log = Factory.Services.GetRequiredService<Serverless.Functions.Platform.Events.PlatformEventLog>();
        var eventId = $"workflow.completed:exe_{Guid.NewGuid():N}";

        await log.AppendOnceAsync(Owner.PersonalWorkspaceId, eventId, "workflow.completed", new JsonObject(), CancellationToken.None);
        await DrainAsync();
        await log.AppendOnceAsync(Owner.PersonalWorkspaceId, eventId, "workflow.completed", new JsonObject(), CancellationToken.None);
        await DrainAsync();

        Assert.Single(Receiver.Received);
        Assert.Single(await DeliveriesAsync(subscribed));
        Assert.Empty(await DeliveriesAsync(other));
        Assert.Empty(await DeliveriesAsync(inactive));
    }

    [Fact]
    public async Task Failure_IsRetriedAfterTheBackoff_ThenSucceeds()
    {
        var id = (await CreateWebhookAsync($"/flaky/1", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject { ["userId"] = "usr_x" });

        await DrainAsync();
        var failed = await OnlyDeliveryAsync(id);
        Assert.Equal("retrying", failed["status"]!.GetValue<string>());
        Assert.Equal(500, failed["responseCode"]!.GetValue<int>());
        Assert.Equal("down", failed["responseBody"]!.GetValue<string>());
        AssertNextAttemptIn(failed, TimeSpan.FromSeconds(30));

        // The retry's message is invisible until the next attempt is due, and only then.
        AdvanceToJustBefore(failed);
        Assert.Equal(0, await DrainAsync());
        Factory.Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await DrainAsync());

        var delivered = await OnlyDeliveryAsync(id);
        Assert.Equal("delivered", delivered["status"]!.GetValue<string>());
        Assert.Equal(2, delivered["attempt"]!.GetValue<int>());
        Assert.Null(delivered["nextAttemptAt"]);
        Assert.Equal(2, Receiver.Received.Count);
        // Every attempt carries the same payload: the receiver dedupes on its id.
        Assert.Single(Receiver.Received.Select(r => JsonNode.Parse(r.Body)!["id"]!.GetValue<string>()).Distinct());
    }

    [Fact]
    public async Task Backoff_FollowsTheSchedule_ThenGivesUp()
    {
        var id = (await CreateWebhookAsync("/status/503", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());
        await DrainAsync();

        for (var retry = 1; retry <= WebhookRetries.Schedule.Count; retry++)
        {
            await RefreshOwnerAsync();
            var delivery = await OnlyDeliveryAsync(id);
            Assert.Equal("retrying", delivery["status"]!.GetValue<string>());
            Assert.Equal(retry, delivery["attempt"]!.GetValue<int>());
            AssertNextAttemptIn(delivery, WebhookRetries.Schedule[retry - 1]);
            AdvanceToJustBefore(delivery);
            Assert.Equal(0, await DrainAsync());
            Factory.Clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(1, await DrainAsync());
        }

        await RefreshOwnerAsync();
        var gaveUp = await OnlyDeliveryAsync(id);
        Assert.Equal("failed", gaveUp["status"]!.GetValue<string>());
        Assert.Equal(WebhookRetries.Schedule.Count + 1, gaveUp["attempt"]!.GetValue<int>());
        Assert.Null(gaveUp["nextAttemptAt"]);
        Assert.Equal(WebhookRetries.Schedule.Count + 1, Receiver.Received.Count);
    }

    [Theory]
    [InlineData("120", 120)]
    [InlineData("999999", 3600)]
    public async Task RetryAfter_InSeconds_IsHonoured_UpToTheCap(string header, int expectedSeconds)
    {
        var id = (await CreateWebhookAsync($"/status/429?retryAfter={header}", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());

        await DrainAsync();

        var delivery = await OnlyDeliveryAsync(id);
        Assert.Equal(429, delivery["responseCode"]!.GetValue<int>());
        var wait = delivery["nextAttemptAt"]!.GetValue<DateTimeOffset>() - Factory.Clock.GetUtcNow();
        Assert.InRange(wait.TotalSeconds, expectedSeconds - 5, expectedSeconds + 1);
    }

    [Fact]
    public async Task RetryAfter_AsAnHttpDate_IsHonoured()
    {
        var at = Factory.Clock.GetUtcNow().AddMinutes(7);
        var id = (await CreateWebhookAsync($"/status/503?retryAfter={Uri.EscapeDataString(at.ToString("R"))}", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());

        await DrainAsync();

        var next = (await OnlyDeliveryAsync(id))["nextAttemptAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange((next - at).TotalSeconds, -2, 2);
    }

    [Fact]
    public async Task NoResponseWithinTheTimeout_IsAFailedAttempt()
    {
        var id = (await CreateWebhookAsync("/slow", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());

        await DrainAsync();

        var delivery = await OnlyDeliveryAsync(id);
        Assert.Equal("retrying", delivery["status"]!.GetValue<string>());
        Assert.Null(delivery["responseCode"]);
        Assert.Contains("1 s", delivery["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.InRange(delivery["latencyMs"]!.GetValue<long>(), 900, 2900);
    }

    [Fact]
    public async Task Redirect_IsNotFollowed_AndIsAFailure()
    {
        var id = (await CreateWebhookAsync("/redirect", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());

        await DrainAsync();

        var delivery = await OnlyDeliveryAsync(id);
        Assert.Equal("retrying", delivery["status"]!.GetValue<string>());
        Assert.Equal(302, delivery["responseCode"]!.GetValue<int>());
        Assert.DoesNotContain(Receiver.Received, r => r.Path == "/ok");
    }

    [Fact]
    public async Task Webhook_WhoseDeliveriesAllFailFor24Hours_IsDisabled()
    {
        var id = (await CreateWebhookAsync("/status/500", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());
        await DrainAsync();
        Assert.True((await Client.ApiGetAsync($"/api/v1/webhooks/{id}", Owner.AccessToken)).Data["active"]!.GetValue<bool>());

        Factory.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        await RefreshOwnerAsync();
        await RecordEventAsync("user.created", new JsonObject());
        await DrainAsync();

        var webhook = (await Client.ApiGetAsync($"/api/v1/webhooks/{id}", Owner.AccessToken)).Data;
        Assert.False(webhook["active"]!.GetValue<bool>());
        Assert.Contains("HTTP 500", webhook["disabledReason"]!.GetValue<string>(), StringComparison.Ordinal);
        // Nothing further is attempted for a disabled webhook, and new events create no deliveries.
        Assert.All(await DeliveriesAsync(id), d => Assert.Equal("failed", d!["status"]!.GetValue<string>()));
        var attempts = Receiver.Received.Count;
        await RecordEventAsync("user.created", new JsonObject());
        Factory.Clock.Advance(TimeSpan.FromDays(1));
        await DrainAsync();
        Assert.Equal(attempts, Receiver.Received.Count);

        await RefreshOwnerAsync();
        var enabled = await Client.ApiPutAsync($"/api/v1/webhooks/{id}", new { active = true }, Owner.AccessToken);
        Assert.True(enabled.Data["active"]!.GetValue<bool>());
        Assert.Null(enabled.Data["disabledReason"]);
    }

    [Fact]
    public async Task Success_ResetsTheFailureClock()
    {
        var id = (await CreateWebhookAsync("/flaky/1", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());
        await DrainAsync();
        Factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await DrainAsync();

        var webhook = (await Client.ApiGetAsync($"/api/v1/webhooks/{id}", Owner.AccessToken)).Data;
        Assert.Null(webhook["failingSince"]);
        Assert.NotNull(webhook["lastSuccessAt"]);
    }

    [Fact]
    public async Task Redeliver_MakesANewAttemptNow()
    {
        var id = (await CreateWebhookAsync("/ok", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());
        await DrainAsync();
        var first = await OnlyDeliveryAsync(id);

        var redelivered = await Client.ApiPostAsync($"/api/v1/webhooks/{id}/deliveries/{first["id"]}/redeliver", null, Owner.AccessToken);
        Assert.Equal(HttpStatusCode.Accepted, redelivered.Status);
        Assert.Equal("pending", redelivered.Data["status"]!.GetValue<string>());
        await DrainAsync();

        var again = await OnlyDeliveryAsync(id);
        Assert.Equal("delivered", again["status"]!.GetValue<string>());
        Assert.Equal(2, again["attempt"]!.GetValue<int>());
        Assert.Equal(2, Receiver.Received.Count);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.ApiPostAsync($"/api/v1/webhooks/{id}/deliveries/dlv_missing/redeliver", null, Owner.AccessToken)).Status);
    }

    [Fact]
    public async Task Redeliver_OfARetryingDelivery_OvertakesTheScheduledRetry()
    {
        var id = (await CreateWebhookAsync("/flaky/1", ["user.created"]))["id"]!.GetValue<string>();
        await RecordEventAsync("user.created", new JsonObject());
        await DrainAsync();
        var retrying = await OnlyDeliveryAsync(id);

        await Client.ApiPostAsync($"/api/v1/webhooks/{id}/deliveries/{retrying["id"]}/redeliver", null, Owner.AccessToken);
        await DrainAsync();
        Factory.Clock.Advance(TimeSpan.FromMinutes(5));
        await DrainAsync();

        var delivery = await OnlyDeliveryAsync(id);
        Assert.Equal("delivered", delivery["status"]!.GetValue<string>());
        Assert.Equal(2, delivery["attempt"]!.GetValue<int>());
        // The scheduled retry found its attempt taken and sent nothing.
        Assert.Equal(2, Receiver.Received.Count);
    }

    [Fact]
    public async Task Test_DeliversAWebhookTestEventToThisWebhookOnly()
    {
        var id = (await CreateWebhookAsync("/ok", ["workflow.completed"]))["id"]!.GetValue<string>();
        var other = (await CreateWebhookAsync("/ok", ["workflow.completed", "webhook.test"]))["id"]!.GetValue<string>();

        var tested = await Client.ApiPostAsync($"/api/v1/webhooks/{id}/test", null, Owner.AccessToken);
        Assert.Equal(HttpStatusCode.Accepted, tested.Status);
        await DrainAsync();

        var delivery = await OnlyDeliveryAsync(id);
        Assert.Equal(tested.Data["deliveryId"]!.GetValue<string>(), delivery["id"]!.GetValue<string>());
        Assert.Equal("webhook.test", delivery["event"]!.GetValue<string>());
        Assert.Equal("delivered", delivery["status"]!.GetValue<string>());
        Assert.Empty(await DeliveriesAsync(other));
        var received = Assert.Single(Receiver.Received);
        Assert.Equal("webhook.test", received.Headers["X-Webhook-Event"]);
        Assert.Equal(id, JsonNode.Parse(received.Body)!["data"]!["webhookId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Connection_ToAnInternalAddress_IsRefusedAtConnectTime()
    {
        // Saved while allowed, then pointed (as a DNS change would) at a name that resolves to loopback and is not allow-listed.
        var id = (await CreateWebhookAsync("/ok", ["user.created"]))["id"]!.GetValue<string>();
        var port = new Uri(Receiver.BaseUrl).Port;
        await Factory.Services.GetRequiredService<WebhookStore>().UpdateAsync(Owner.PersonalWorkspaceId, id, w => w with { Url = $"http://localhost:{port}/ok" }, CancellationToken.None);
        await RecordEventAsync("user.created", new JsonObject());

        await DrainAsync();

        var delivery = await OnlyDeliveryAsync(id);
        Assert.Equal("retrying", delivery["status"]!.GetValue<string>());
        Assert.Contains("not allowed for webhooks", delivery["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Receiver.Received);
    }

    [Fact]
    public async Task DeliveryList_IsNewestFirst_Paged_AndFiltersByStatus()
    {
        var id = (await CreateWebhookAsync("/ok", ["user.created"]))["id"]!.GetValue<string>();
        for (var i = 0; i < 3; i++)
        {
            await RecordEventAsync("user.created", new JsonObject { ["n"] = i });
            await DrainAsync();
            Factory.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var page = await Client.ApiGetAsync($"/api/v1/webhooks/{id}/deliveries?limit=2", Owner.AccessToken);
        var delivered = await Client.ApiGetAsync($"/api/v1/webhooks/{id}/deliveries?status=delivered", Owner.AccessToken);
        var failed = await Client.ApiGetAsync($"/api/v1/webhooks/{id}/deliveries?status=failed", Owner.AccessToken);
        var bad = await Client.ApiGetAsync($"/api/v1/webhooks/{id}/deliveries?status=lost", Owner.AccessToken);

        Assert.Equal(2, page.Data.AsArray().Count);
        Assert.True(page.Data[0]!["createdAt"]!.GetValue<DateTimeOffset>() > page.Data[1]!["createdAt"]!.GetValue<DateTimeOffset>());
        Assert.True(page.Body!["pagination"]!["hasMore"]!.GetValue<bool>());
        Assert.Equal(3, delivered.Data.AsArray().Count);
        Assert.Empty(failed.Data.AsArray());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
    }

    private void AssertNextAttemptIn(JsonNode delivery, TimeSpan backoff)
    {
        var wait = delivery["nextAttemptAt"]!.GetValue<DateTimeOffset>() - Factory.Clock.GetUtcNow();
        Assert.InRange(wait, backoff - TimeSpan.FromSeconds(5), backoff * (1 + WebhookRetries.MaxJitter) + TimeSpan.FromSeconds(1));
    }

    private void AdvanceToJustBefore(JsonNode delivery) =>
        Factory.Clock.Advance(delivery["nextAttemptAt"]!.GetValue<DateTimeOffset>() - Factory.Clock.GetUtcNow() - TimeSpan.FromSeconds(1));
}
