using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Webhooks;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Features.Webhooks;

/// <summary>
/// The platform with its triggers off, a webhook receiver on 127.0.0.1 (allow-listed) and a 1 s delivery timeout; the
/// test plays the Functions host by draining platform-events and webhook-deliveries through their functions.
/// </summary>
public abstract class WebhookTestBase : IAsyncLifetime
{
    protected WebhookTestBase(IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Webhooks:AllowedPrivateHosts"] = "127.0.0.1", ["Webhooks:TimeoutSeconds"] = "1" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        Factory = PlatformFactory.With(all);
        Client = Factory.CreateClient();
    }

    protected PlatformFactory Factory { get; }

    protected HttpClient Client { get; }

    protected WebhookReceiver Receiver { get; private set; } = null!;

    protected TestUser Owner { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        Owner = await Client.RegisterAsync();
        // The owner's own user.created is dispatched now, before any webhook of the test exists.
        await DrainAsync();
    }

    /// <summary>Signs the owner in again (after the clock moved past the access token's life).</summary>
    protected async Task RefreshOwnerAsync()
    {
        var login = await Client.ApiPostAsync("/api/v1/auth/login", new { email = Owner.Email, password = Owner.Password });
        Owner = Owner with { AccessToken = login.Data["accessToken"]!.GetValue<string>() };
    }

    public async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        Client.Dispose();
        await Factory.DisposeAsync();
    }

    protected async Task<JsonNode> CreateWebhookAsync(string path, string[]? events = null, string? secret = null, TestUser? user = null)
    {
        var created = await Client.ApiPostAsync("/api/v1/webhooks",
            new { url = Receiver.BaseUrl + path, events = events ?? ["workflow.completed"], secret, description = "test" }, (user ?? Owner).AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data;
    }

    protected async Task<string> RecordEventAsync(string type, JsonObject data, string? workspaceId = null)
    {
        var id = $"{type}:{Guid.NewGuid():N}";
        await Factory.Services.GetRequiredService<PlatformEventLog>().AppendOnceAsync(workspaceId ?? Owner.PersonalWorkspaceId, id, type, data, CancellationToken.None);
        return id;
    }

    protected async Task<JsonArray> DeliveriesAsync(string webhookId)
    {
        var list = await Client.ApiGetAsync($"/api/v1/webhooks/{webhookId}/deliveries", Owner.AccessToken);
        Assert.True(list.Status == HttpStatusCode.OK, list.Body?.ToJsonString());
        return list.Data.AsArray();
    }

    protected async Task<JsonNode> OnlyDeliveryAsync(string webhookId) => Assert.Single(await DeliveriesAsync(webhookId))!;

    /// <summary>Plays the Functions host: runs every visible message of both queues through its function until none is left.</summary>
    protected async Task<int> DrainAsync()
    {
        var total = 0;
        int round;
        do
        {
            round = await DrainQueueAsync(PlatformEventMessage.QueueName, "DispatchPlatformEvent")
                + await DrainQueueAsync(WebhookDeliveryMessage.QueueName, "DeliverWebhook");
            total += round;
        }
        while (round > 0);
        return total;
    }

    private async Task<int> DrainQueueAsync(string queueName, string function)
    {
        var queue = Factory.Services.GetRequiredService<IWorkQueue>();
        var delivered = 0;
        while ((await queue.DequeueAsync(queueName, 16, TimeSpan.FromMinutes(1), CancellationToken.None)) is { Count: > 0 } messages)
        {
            foreach (var message in messages)
            {
                await TriggerInvoker.InvokeAsync(Factory.Services, function, message.Body, message.DequeueCount);
                await queue.DeleteAsync(queueName, message.Id, message.PopReceipt, CancellationToken.None);
                delivered++;
            }
        }

        return delivered;
    }
}
