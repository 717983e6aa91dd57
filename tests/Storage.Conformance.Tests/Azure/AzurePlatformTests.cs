using System.Net;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Durable;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Tests.Support;
using Serverless.Orchestrations.Ports;
using Serverless.Testing;

namespace Serverless.Storage.Conformance.Tests.Azure;

/// <summary>
/// The whole platform on Azure Storage: the app runs standalone with <c>Storage:Provider=AzureStorage</c> against an
/// Azurite of its own, the standalone trigger host drives its queue and timer functions (TriggerFunctions), and a
/// restart with an empty data directory finds everything where it was — nothing lives on the instance's disk.
/// </summary>
public sealed partial class AzurePlatformTests : IAsyncLifetime
{
    private const string NewPassword = "Azure9storage";

    private readonly string _scriptRoot = Path.Combine(Path.GetTempPath(), "platform-tests", "azure-script-" + Guid.NewGuid().ToString("N"));
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private Azurite? _azurite;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync(_timeout.Token);
        WriteScriptRoot();
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }

        Directory.Delete(_scriptRoot, recursive: true);
        _timeout.Dispose();
    }

    [Fact]
    public async Task Platform_OnAzureStorage_WorksDrivenByTheTriggerHostAndSurvivesARestartWithAnEmptyDataDirectory()
    {
        var clockOffset = TimeSpan.FromDays(3);
        string apiKey, accessToken, userId, verifyHash, executionId;
        TestUser user;
        using (var first = Start())
        {
            var client = first.CreateClient();

            // Register and sign in; the verification mail travels the Azure queue and the SendEmail queue function.
            user = await client.RegisterAsync();
            userId = user.Id;
            verifyHash = Secrets.Hash(Http.TokenIn((await first.Mail.WaitForAsync(user.Email, "confirm")).Body));

            // An API key, used.
            apiKey = await client.CreateKeyAsync(user, ["workspaces:read", "profile:read"]);
            Assert.Equal(HttpStatusCode.OK, (await client.ApiGetAsync("/api/v1/workspaces", headers: Users.ApiKey(apiKey))).Status);

            // Forgot password → queue → SendEmail delivers the reset mail → the mailed token resets the password.
            await client.ApiPostAsync("/api/v1/auth/forgot-password", new { email = user.Email });
            var reset = Http.TokenIn((await first.Mail.WaitForAsync(user.Email, "reset")).Body);
            Assert.Equal(HttpStatusCode.OK, (await client.ApiPostAsync("/api/v1/auth/reset-password", new { token = reset, password = NewPassword })).Status);
            // Asked of Azurite directly, past any decorator the app puts around its work queue.
            var emailQueue = first.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(EmailOutbox.QueueName);
            await WaitUntilAsync(async () => (await emailQueue.GetPropertiesAsync(_timeout.Token)).Value.ApproximateMessagesCount == 0, "the email queue in Azure Storage drains");

            // A workflow with a durable delay: its steps, and the delayed message the wait is made of, travel the
            // Azure work queue, drained by the standalone trigger host; the run is read back after the restart.
            var workflowId = await client.CreateWorkflowAsync(user, WorkflowApi.Line(new { v = "{{inputs.v}}", waited = "{{pause.waitedSeconds}}" },
                WorkflowApi.Node("pause", "delay", new { seconds = 2 })));
            executionId = await client.ExecuteAsync(user, workflowId, new { v = 42 });
            var waiting = await client.WaitForAsync(user, executionId, r => r["status"]!.GetValue<string>() == "waiting");
            var finished = await client.WaitForAsync(user, executionId, seconds: 30);
            Assert.Equal("waiting", WorkflowApi.NodeOf(waiting, "pause")["status"]!.GetValue<string>());
            Assert.Equal("succeeded", finished["status"]!.GetValue<string>());
            Assert.Equal(42, finished["outputs"]!["v"]!.GetValue<int>());

            // The cleanup timer function deletes what expired: three days on, the never-used 48-hour verification token.
            // (Its five-minute schedule runs on real time; the test fires it as the trigger host does.)
            var store = first.Services.GetRequiredService<IEntityStore>();
            Assert.NotNull(await store.GetAsync("onetimetokens", verifyHash, "t", _timeout.Token));
            first.Clock.Advance(clockOffset);
            await Serverless.Functions.Triggers.TriggerCatalog.InvokeAsync(first.Services, first.Services.GetRequiredService<Serverless.Functions.Triggers.TriggerCatalog>().Get("CleanupExpiredRecords"),
                null, 0, first.Clock, _timeout.Token);
            Assert.Null(await store.GetAsync("onetimetokens", verifyHash, "t", _timeout.Token));

            var login = await client.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = NewPassword });
            accessToken = login.Data["accessToken"]!.GetValue<string>();
            Assert.False(Directory.Exists(first.DataDirectory) && Directory.EnumerateFileSystemEntries(first.DataDirectory).Any(), "Nothing is kept on the instance's disk.");
        }

        using var second = Start();
        second.Clock.Advance(clockOffset);
        Assert.False(Directory.Exists(second.DataDirectory), "The restarted instance starts with an empty data directory.");
        var again = second.CreateClient();

        var relogin = await again.ApiPostAsync("/api/v1/auth/login", new { email = user.Email, password = NewPassword });
        var withKey = await again.ApiGetAsync("/api/v1/workspaces", headers: Users.ApiKey(apiKey));
        var withOldToken = await again.ApiGetAsync("/api/v1/auth/me", accessToken);

        Assert.Equal(HttpStatusCode.OK, relogin.Status);
        Assert.Equal(userId, relogin.Data["user"]!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, withKey.Status);
        Assert.Contains(withKey.Data.AsArray(), w => w?["id"]?.GetValue<string>() == user.PersonalWorkspaceId);
        Assert.Equal(HttpStatusCode.OK, withOldToken.Status);
        Assert.Equal(userId, withOldToken.Data["user"]!["id"]!.GetValue<string>());
        var run = (await again.ApiGetAsync($"/api/v1/executions/{executionId}", accessToken)).Data;
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(42, run["outputs"]!["v"]!.GetValue<int>());
        await AssertDeclaredInInfraAsync(second.Services);
    }

    private PlatformFactory Start() => PlatformFactory.With(new Dictionary<string, string?>
    {
        ["Storage:Provider"] = "AzureStorage",
        ["Storage:ConnectionString"] = _azurite!.ConnectionString,
        ["Triggers:Enabled"] = "true",
        ["Triggers:ScriptRoot"] = _scriptRoot,
    });

    /// <summary>The app's own host.json (its queue settings), where the standalone trigger host reads it.</summary>
    private void WriteScriptRoot()
    {
        Directory.CreateDirectory(_scriptRoot);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "host.json"), Path.Combine(_scriptRoot, "host.json"));
    }

    /// <summary>Every table, queue and container the platform created in its Azurite is one the infrastructure declares.</summary>
    private async Task AssertDeclaredInInfraAsync(IServiceProvider services)
    {
        var bicep = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "Infra", "app", "storage.bicep"), _timeout.Token);
        var declared = DeclaredList().Matches(bicep)
            .SelectMany(list => QuotedName().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        var created = new List<string>();

        await foreach (var table in services.GetRequiredService<TableServiceClient>().QueryAsync(cancellationToken: _timeout.Token))
        {
            created.Add(table.Name);
        }

        await foreach (var queue in services.GetRequiredService<QueueServiceClient>().GetQueuesAsync(cancellationToken: _timeout.Token))
        {
            created.Add(queue.Name);
        }

        await foreach (var container in services.GetRequiredService<BlobServiceClient>().GetBlobContainersAsync(cancellationToken: _timeout.Token))
        {
            created.Add(container.Name);
        }

        Assert.Contains("users", created);
        Assert.Contains(EmailOutbox.QueueName, created);
        // The Durable Task backend owns its task hub's tables, queues and containers (named after the hub) and creates
        // them itself, as Durable Functions does in Azure; the app identity's data roles cover them.
        var hub = services.GetRequiredService<IOptions<DurableOptions>>().Value.TaskHub;
        Assert.Contains(created, name => name.StartsWith(hub, StringComparison.OrdinalIgnoreCase));
        var undeclared = created.Where(name => !declared.Contains(name) && !name.StartsWith(hub, StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(undeclared.Count == 0, "Created by the platform but not declared in Infra/app/storage.bicep: " + string.Join(", ", undeclared));
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Within 30 s, expected: {what}.");
            await Task.Delay(100, _timeout.Token);
        }
    }

    // storage.bicep declares them as string arrays: var tableNames = [ ... ], queueNames, containerNames.
    [GeneratedRegex(@"var (?:tableNames|queueNames|containerNames) = \[(.*?)\]", RegexOptions.Singleline)]
    private static partial Regex DeclaredList();

    [GeneratedRegex(@"'([^']+)'")]
    private static partial Regex QuotedName();
}
