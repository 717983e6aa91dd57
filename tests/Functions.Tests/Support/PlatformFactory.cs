using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Functions.Platform.Email;

namespace Serverless.Functions.Tests.Support;

/// <summary>
/// The whole app in process over its real SQLite store, in a data directory of its own. Mail is captured
/// instead of logged; the clock can be moved; any setting can be overridden per factory.
/// </summary>
public class PlatformFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public PlatformFactory() : this(new Dictionary<string, string?>())
    {
    }

    protected PlatformFactory(IDictionary<string, string?> settings)
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "platform-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = DataDirectory,
            // Fewer PBKDF2 rounds keep the suite fast; production keeps the default.
            ["Auth:PasswordHashIterations"] = "1000",
            ["RateLimits:AuthPerMinutePerIp"] = "100000",
            ["RateLimits:GeneralPerMinute"] = "100000",
            ["Triggers:Enabled"] = "false",
            // Tests never look for a model server on this machine or use a key from the environment; discovery tests turn it on.
            ["Models:Discover"] = "false",
            // Analytics roll-ups land within a tenth of a second, so tests that read them wait little.
            ["Analytics:FlushMilliseconds"] = "50",
        };
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }
    }

    /// <summary>A factory with these settings on top of the test defaults.</summary>
    public static PlatformFactory With(IDictionary<string, string?> settings) => new(settings);

    public string DataDirectory { get; }

    public ManualClock Clock { get; } = new();

    public CapturedMail Mail { get; } = new();

    /// <summary>Further service replacements (a fake credential …), applied when the host is first built.</summary>
    public Action<IServiceCollection>? TestServices { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.RemoveAll<IEmailSender>();
            services.AddSingleton<IEmailSender>(Mail);
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
            TestServices?.Invoke(services);
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; a leftover temp directory is harmless.
        }
    }
}

/// <summary>System time, plus an offset a test can move forward.</summary>
public sealed class ManualClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}

public sealed record SentMail(string To, string Subject, string Body);

public sealed class CapturedMail : IEmailSender
{
    private readonly ConcurrentQueue<SentMail> _sent = new();

    /// <summary>Addresses for which delivery fails, to exercise retries and poison handling.</summary>
    public ConcurrentDictionary<string, bool> Failing { get; } = new();

    public IReadOnlyCollection<SentMail> Sent => _sent;

    Task IEmailSender.SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        if (Failing.ContainsKey(message.To))
        {
            throw new InvalidOperationException("SMTP refused the message.");
        }

        _sent.Enqueue(new SentMail(message.To, message.Subject, message.Body));
        return Task.CompletedTask;
    }

    public async Task<SentMail> WaitForAsync(string to, string subjectContains, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            var found = _sent.LastOrDefault(m => m.To == to && m.Subject.Contains(subjectContains, StringComparison.OrdinalIgnoreCase));
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No mail '{subjectContains}' reached {to}.");
    }
}
