using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Serverless.Functions.Features.Analytics;
using Serverless.Functions.Features.ApiKeys;
using Serverless.Functions.Features.Chat;
using Serverless.Functions.Features.Credits;
using Serverless.Functions.Features.Apps;
using Serverless.Functions.Features.Datasets;
using Serverless.Functions.Features.Health;
using Serverless.Functions.Features.Identity;
using Serverless.Functions.Features.Graphs;
using Serverless.Functions.Features.Integrations;
using Serverless.Functions.Features.Library;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Features.WorkflowTriggers;
using Serverless.Functions.Features.Models;
using Serverless.Functions.Features.Ollama;
using Serverless.Functions.Features.Processes;
using Serverless.Functions.Features.Providers;
using Serverless.Functions.Features.Otto;
using Serverless.Functions.Features.Store;
using Serverless.Functions.Features.Tasks;
using Serverless.Functions.Features.Tools;
using Serverless.Functions.Features.Plugins;
using Serverless.Functions.Features.Webhooks;
using Serverless.Functions.Features.Workspaces;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Analytics;
using Serverless.Functions.Platform.Durable;
using Serverless.Functions.Platform.Email;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Search;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Functions.Triggers;

namespace Serverless.Functions;

internal static class PlatformSetup
{
    public const string DefaultUrl = "http://localhost:7071";

    /// <summary>Standalone mode's server: Kestrel on <see cref="DefaultUrl"/> unless URLs are configured.</summary>
    public static WebApplicationBuilder AddStandaloneServer(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var http = builder.Configuration.GetSection(HttpOptions.Section).Get<HttpOptions>() ?? new HttpOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = http.MaxRequestBodyBytes;
        });
        return builder;
    }

    /// <summary>Every service of the platform, in both modes (<paramref name="standalone"/>: also the built-in trigger host).</summary>
    public static IHostApplicationBuilder AddPlatform(this IHostApplicationBuilder builder, bool standalone)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        services.AddRouting();
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<HttpOptions>().Bind(configuration.GetSection(HttpOptions.Section));
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });
        // Bad input must reach the error handler as an exception so it leaves as an envelope, not an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddMemoryCache();
        services.AddStorage(configuration);
        services.AddSearch(configuration);
        services.AddSingleton<Expirations>();
        services.AddSingleton<Platform.Events.PlatformEventLog>();
        services.AddAnalyticsRollups(configuration);
        services.AddEmail(configuration);

        services.AddOptions<SecretProtectionOptions>().Bind(configuration.GetSection(SecretProtectionOptions.Section));
        services.AddSingleton<SigningKeys>();
        // Loads (or first creates) the signing key while the host starts, so no request waits on storage for it.
        services.AddHostedService(sp => sp.GetRequiredService<SigningKeys>());
        services.AddSingleton<SecretProtector>();
        services.AddHostedService(sp => sp.GetRequiredService<SecretProtector>());
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<RateLimiter>();
        services.AddAuthentication(PlatformAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, PlatformAuthenticationHandler>(PlatformAuthenticationHandler.SchemeName, null);
        services.AddPlatformOpenApi();

        services.AddHealth();
        services.AddWorkspaces();
        services.AddIdentityFeature(configuration);
        services.AddApiKeys();
        services.AddWorkflows(configuration);
        services.AddDurableRuns(configuration, standalone);
        services.AddWorkflowTriggers(configuration);
        services.AddProcesses();
        services.AddApps();
        services.AddLibrary();
        services.AddStore(configuration);
        services.AddModelGateway(configuration);
        services.AddCredits(configuration);
        services.AddModels();
        services.AddProviders(configuration);
        services.AddOllama();
        services.AddTasks(configuration);
        services.AddOtto(configuration);
        services.AddChat(configuration);
        services.AddDatasets(configuration);
        services.AddWebhooks(configuration);
        services.AddPlugins(configuration);
        services.AddIntegrations(configuration);
        services.AddTools();
        services.AddAnalytics();
        services.AddTriggers(configuration, standalone);
        return builder;
    }

    /// <summary>
    /// The platform's one request pipeline: middleware, then the endpoint table. Standalone the app is the
    /// <see cref="WebApplication"/>; in worker mode a <see cref="Hosting.PlatformPipeline"/> that every HTTP function runs.
    /// </summary>
    public static TApp MapPlatform<TApp>(this TApp app) where TApp : IApplicationBuilder, IEndpointRouteBuilder
    {
        var http = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<HttpOptions>>().Value;
        app.UseRequestIds();
        app.UseErrorEnvelopes();
        app.UseWellFormedJsonBodies();
        app.UsePlatformDocs();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.UseRouting();
        app.UseBodySizeLimit(http.MaxRequestBodyBytes);
        app.UseAuthentication();
        app.UseMiddleware<RateLimitMiddleware>();
        app.UseMiddleware<AccessControlMiddleware>();
        app.UseMiddleware<IdempotencyMiddleware>();

        app.MapHealth();
        app.MapIdentity();
        app.MapApiKeys();
        app.MapWorkspaces();
        app.MapWorkflows();
        app.MapWorkflowTriggers();
        app.MapProcesses();
        app.MapApps();
        app.MapLibrary();
        app.MapStore();
        app.MapModels();
        app.MapProviders();
        app.MapOllama();
        app.MapTasks();
        app.MapOtto();
        app.MapChat();
        app.MapDatasets();
        app.MapWebhooks();
        app.MapPlugins();
        app.MapIntegrations();
        app.MapGraphs();
        app.MapTools();
        app.MapAnalytics();
        app.MapCredits();
        app.MapPlatformDocs();
        return app;
    }
}
