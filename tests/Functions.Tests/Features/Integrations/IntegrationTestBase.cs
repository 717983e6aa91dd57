using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Functions.Platform.Events;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Integrations;

/// <summary>
/// The platform (engine running) with a credential-checking API on 127.0.0.1, allow-listed for credentials and for
/// http_request nodes, and every log line it writes kept, so a test can look for a secret in it.
/// </summary>
public abstract class IntegrationTestBase : IAsyncLifetime
{
    protected IntegrationTestBase(IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Integrations:AllowedPrivateHosts"] = "127.0.0.1",
            ["Integrations:TestTimeoutSeconds"] = "5",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        Factory = new SettingsFactory(all);
        Factory.TestServices = services => services.AddSingleton<ILoggerProvider>(Logs);
        Client = Factory.CreateClient();
    }

    protected PlatformFactory Factory { get; }

    protected HttpClient Client { get; }

    protected CredentialUpstream Upstream { get; private set; } = null!;

    protected TestUser Owner { get; private set; } = null!;

    protected LogCapture Logs { get; } = new();

    public async Task InitializeAsync()
    {
        Upstream = await CredentialUpstream.StartAsync();
        Owner = await Client.RegisterAsync();
    }

    public async Task DisposeAsync()
    {
        await Upstream.DisposeAsync();
        Client.Dispose();
        await Factory.DisposeAsync();
    }

    /// <summary>Stores an http_bearer credential bound to the upstream; returns its id.</summary>
    protected async Task<string> CreateBearerAsync(string token, string? testPath = "/me", TestUser? user = null, object? expiresAt = null)
    {
        var created = await Client.ApiPostAsync("/api/v1/integrations", new
        {
            provider = "http_bearer",
            name = "upstream",
            credentials = new { baseUrl = Upstream.BaseUrl, token, testUrl = testPath is null ? null : Upstream.BaseUrl + testPath },
            expiresAt,
        }, (user ?? Owner).AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data["id"]!.GetValue<string>();
    }

    /// <summary>The credential.expired events recorded for one credential.</summary>
    private protected async Task<IReadOnlyList<PlatformEvent>> ExpiredEventsAsync(string credentialId, string? workspaceId = null)
    {
        var page = await Factory.Services.GetRequiredService<PlatformEventLog>()
            .PageAsync(workspaceId ?? Owner.PersonalWorkspaceId, $"credential.expired:integration:{credentialId}:", null, 50, CancellationToken.None);
        return page!.Value.Items;
    }

    protected static string Field(ApiResponse response) => response.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>();

    protected static string Json(ApiResponse response) => response.Body?.ToJsonString() ?? "";

    private sealed class SettingsFactory(IDictionary<string, string?> settings) : WorkflowFactory(settings);
}

/// <summary>Keeps every log entry: its text, its structured values and its exception.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyCollection<string> Entries => _entries;

    public string All => string.Join("\n", _entries);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            capture._entries.Enqueue($"{category} {eventId.Id} {formatter(state, exception)} {values} {exception}");
        }
    }
}
