using Microsoft.AspNetCore.Http.Features;

namespace Serverless.Functions.Hosting;

/// <summary>
/// Worker mode's request pipeline: the platform's own middleware and endpoint table (<see cref="PlatformSetup.MapPlatform{TApp}"/>,
/// the very calls the standalone app makes), built once at start-up. Each HTTP function hands its <see cref="HttpContext"/>
/// here, so every endpoint behaves exactly as it does standalone (auth, scopes, rate limits, idempotency, envelopes,
/// body limits, streaming).
/// </summary>
internal sealed class FunctionRequests(IServiceProvider services)
{
    private readonly Lazy<RequestDelegate> _pipeline = new(() => Build(services));

    /// <summary>Builds the pipeline now rather than on the first request.</summary>
    public void Warm() => _ = _pipeline.Value;

    public Task HandleAsync(HttpContext context)
    {
        // The worker's own routing matched the function's endpoint; the platform routes the request again against its
        // endpoint table (same route), so the endpoint's metadata (scopes, rate class, idempotency) is the platform's.
        context.SetEndpoint(null);
        context.Features.Get<IRouteValuesFeature>()?.RouteValues.Clear();
        return _pipeline.Value(context);
    }

    private static RequestDelegate Build(IServiceProvider services)
    {
        var pipeline = new PlatformPipeline(services);
        pipeline.MapPlatform();
        pipeline.UseEndpoints(_ => { });
        return pipeline.Build();
    }
}

/// <summary>
/// What <see cref="WebApplication"/> is to the standalone app, for worker mode: an application builder that is also
/// the endpoint route builder, so <c>UseRouting</c> and the <c>Map…</c> calls share one endpoint table.
/// </summary>
internal sealed class PlatformPipeline : IApplicationBuilder, IEndpointRouteBuilder
{
    // The key UseRouting reads to find the app's global endpoint route builder (WebApplication sets the same one).
    private const string GlobalEndpointRouteBuilderKey = "__GlobalEndpointRouteBuilder";
    private readonly ApplicationBuilder _builder;

    public PlatformPipeline(IServiceProvider services)
    {
        _builder = new ApplicationBuilder(services);
        _builder.Properties[GlobalEndpointRouteBuilderKey] = this;
    }

    public ICollection<EndpointDataSource> DataSources { get; } = [];

    public IServiceProvider ServiceProvider => _builder.ApplicationServices;

    public IServiceProvider ApplicationServices
    {
        get => _builder.ApplicationServices;
        set => _builder.ApplicationServices = value;
    }

    public IFeatureCollection ServerFeatures => _builder.ServerFeatures;

    public IDictionary<string, object?> Properties => _builder.Properties;

    public IApplicationBuilder CreateApplicationBuilder() => _builder.New();

    public IApplicationBuilder New() => _builder.New();

    public IApplicationBuilder Use(Func<RequestDelegate, RequestDelegate> middleware)
    {
        _builder.Use(middleware);
        return this;
    }

    public RequestDelegate Build() => _builder.Build();
}
