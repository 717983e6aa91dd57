using Microsoft.Extensions.DependencyInjection;

namespace Serverless.Functions.Tests.Support;

/// <summary>
/// The app with three operator providers on two fake upstreams: <c>gpt-test</c> is served by both (primary first, so a
/// failing primary falls back), <c>solo</c> and <c>embed-test</c> only by the primary; <c>local-ollama</c> is the primary's Ollama face serving <c>llama3.2:1b</c>. Prices: 1.0 in / 2.0 out per 1K.
/// </summary>
public class GatewayFixture : IAsyncLifetime
{
    public FakeModelServer Primary { get; private set; } = null!;

    public FakeModelServer Secondary { get; private set; } = null!;

    public PlatformFactory Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    protected virtual IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    /// <summary>Service replacements of a derived fixture.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public virtual async Task InitializeAsync()
    {
        Primary = await FakeModelServer.StartAsync();
        Secondary = await FakeModelServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Models:Providers:0:Name"] = "primary",
            ["Models:Providers:0:Kind"] = "openai-compatible",
            ["Models:Providers:0:BaseUrl"] = Primary.OpenAiBase,
            ["Models:Providers:0:ApiKey"] = "sk-primary-secret",
            ["Models:Providers:0:Models:0:Id"] = "gpt-test",
            ["Models:Providers:0:Models:0:UpstreamModel"] = "upstream-gpt",
            ["Models:Providers:0:Models:0:InputPricePer1K"] = "1.0",
            ["Models:Providers:0:Models:0:OutputPricePer1K"] = "2.0",
            ["Models:Providers:0:Models:1:Id"] = "solo",
            ["Models:Providers:0:Models:2:Id"] = "embed-test",
            ["Models:Providers:0:Models:2:Embedding"] = "true",
            ["Models:Providers:0:Models:2:InputPricePer1K"] = "0.5",
            ["Models:Providers:1:Name"] = "secondary",
            ["Models:Providers:1:Kind"] = "openai-compatible",
            ["Models:Providers:1:BaseUrl"] = Secondary.OpenAiBase,
            ["Models:Providers:1:Models:0:Id"] = "gpt-test",
            ["Models:Providers:1:Models:0:InputPricePer1K"] = "1.0",
            ["Models:Providers:1:Models:0:OutputPricePer1K"] = "2.0",
            ["Models:Providers:2:Name"] = "local-ollama",
            ["Models:Providers:2:Kind"] = "ollama",
            ["Models:Providers:2:BaseUrl"] = Primary.BaseUrl.ToString(),
            ["Models:Providers:2:Models:0:Id"] = "llama3.2:1b",
            ["Models:Providers:2:Models:0:InputPricePer1K"] = "0.1",
            ["Models:Providers:2:Models:0:OutputPricePer1K"] = "0.1",
            ["Models:MaxRetries"] = "1",
            ["Models:RetryBaseDelayMs"] = "10",
            // Short enough to test timeouts quickly, long enough for a cold first call on a busy machine.
            ["Models:RequestTimeoutSeconds"] = "2",
            ["Models:AllowedPrivateHosts"] = "127.0.0.1",
            ["RateLimits:ExecutePerMinute"] = "100000",
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }

        Factory = PlatformFactory.With(settings);
        Factory.TestServices = ConfigureServices;
        Client = Factory.CreateClient();
        // The first user becomes platform admin; taking that seat here keeps every test's own users ordinary.
        Operator = await Client.RegisterAsync();
    }

    public TestUser Operator { get; private set; } = null!;

    public virtual async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Primary.DisposeAsync();
        await Secondary.DisposeAsync();
    }

    /// <summary>Both upstreams answer every request with a 500 until the returned scope is disposed.</summary>
    public IDisposable FailEveryUpstream()
    {
        FakeBehavior fail = async (context, _) =>
        {
            context.Response.StatusCode = 500;
            await Microsoft.AspNetCore.Http.HttpResponseJsonExtensions.WriteAsJsonAsync(context.Response, new { error = new { message = "boom" } });
            return true;
        };
        Primary.Always = fail;
        Secondary.Always = fail;
        return new Restore(() =>
        {
            Primary.Always = null;
            Secondary.Always = null;
        });
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>A fresh user and an API key holding every scope the gateway tests need (plus any model limits).</summary>
    public async Task<(TestUser User, string Key)> UserWithKeyAsync(object? limits = null)
    {
        var user = await Client.RegisterAsync();
        var body = new Dictionary<string, object?>
        {
            ["name"] = "gateway",
            ["scopes"] = new[] { "models:use", "usage:read", "providers:read", "providers:write", "tasks:read", "tasks:write" },
        };
        foreach (var property in limits?.GetType().GetProperties() ?? [])
        {
            body[property.Name] = property.GetValue(limits);
        }

        var created = await Client.ApiPostAsync("/api/v1/user/api-keys", body, user.AccessToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, created.Status);
        return (user, created.Data["key"]!.GetValue<string>());
    }
}
