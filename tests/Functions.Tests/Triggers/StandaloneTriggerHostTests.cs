using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Tests.Triggers;

/// <summary>The standalone host drives the queue functions of TriggerFunctions with host.json's queue settings, as the Functions host would.</summary>
public sealed class StandaloneTriggerHostTests : IDisposable
{
    private readonly string _scriptRoot = Path.Combine(Path.GetTempPath(), "platform-tests", "script-" + Guid.NewGuid().ToString("N"));
    private readonly PlatformFactory _factory;

    public StandaloneTriggerHostTests()
    {
        Directory.CreateDirectory(_scriptRoot);
        File.WriteAllText(Path.Combine(_scriptRoot, "host.json"), """
            { "version": "2.0", "extensions": { "queues": { "maxDequeueCount": 3, "visibilityTimeout": "00:00:00", "maxPollingInterval": "00:00:00.200", "batchSize": 4 } } }
            """);
        _factory = PlatformFactory.With(new Dictionary<string, string?> { ["Triggers:Enabled"] = "true", ["Triggers:ScriptRoot"] = _scriptRoot });
    }

    [Fact]
    public async Task QueueMessage_IsDeliveredAndDeleted()
    {
        var client = _factory.CreateClient();
        var user = await client.RegisterAsync();

        await _factory.Mail.WaitForAsync(user.Email, "confirm");
        var queue = _factory.Services.GetRequiredService<IWorkQueue>();

        await WaitUntilAsync(async () => await queue.GetApproximateCountAsync("email-outbox", CancellationToken.None) == 0);
    }

    [Fact]
    public async Task FailingMessage_IsRetriedThenMovedToPoison()
    {
        var client = _factory.CreateClient();
        var email = $"bounce-{Guid.NewGuid():N}@example.com";
        _factory.Mail.Failing[email] = true;
        var queue = _factory.Services.GetRequiredService<IWorkQueue>();

        await client.ApiPostAsync("/api/v1/auth/register", new { email, password = Users.Password });

        // Poisoning copies the message first and deletes the original second (a crash in between duplicates it,
        // never loses it), so both conditions are awaited together.
        await WaitUntilAsync(async () => await queue.GetApproximateCountAsync("email-outbox-poison", CancellationToken.None) == 1
            && await queue.GetApproximateCountAsync("email-outbox", CancellationToken.None) == 0);
        var poisoned = await queue.DequeueAsync("email-outbox-poison", 1, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Contains(email, Assert.Single(poisoned).Body);
        Assert.DoesNotContain(_factory.Mail.Sent, m => m.To == email);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 15 s.");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        _factory.Dispose();
        Directory.Delete(_scriptRoot, recursive: true);
    }
}
