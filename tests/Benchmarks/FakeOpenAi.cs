using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Benchmarks;

/// <summary>
/// The upstream both the direct and the gateway runs talk to: an OpenAI-compatible chat endpoint on loopback
/// whose answers are precomputed bytes, so what is measured is the path to it, not the fake. Its embeddings endpoint
/// (one fixed vector per input) is the zero-latency embedder of the ingestion suite.
/// </summary>
internal sealed class FakeOpenAi : IAsyncDisposable
{
    private static readonly byte[] Completion = Encoding.UTF8.GetBytes(
        "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"Hello from the fake upstream.\"},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19}}");

    private static readonly byte[][] Chunks =
    [
        .. new[] { "Hello", " from", " the", " fake." }.Select(piece => Encoding.UTF8.GetBytes(
            "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
            + piece + "\"},\"finish_reason\":null}]}\n\n")),
        Encoding.UTF8.GetBytes("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4,\"total_tokens\":16}}\n\n"),
        "data: [DONE]\n\n"u8.ToArray(),
    ];

    /// <summary>
    /// How long, on average, the slow face of the fake takes before its answer (or its first chunk), like a small model
    /// would. Each answer varies by ±10 ms: a fixed delay would finish every in-flight request on the same timer tick,
    /// a thundering herd no real model produces, which would measure the burst rather than the path.
    /// </summary>
    public static readonly TimeSpan SlowServiceTime = TimeSpan.FromMilliseconds(50);

    private readonly WebApplication _app;

    private FakeOpenAi(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public static async Task<FakeOpenAi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/v1/models", () => Results.Text("{\"object\":\"list\",\"data\":[]}", "application/json"));
        app.MapPost("/v1/chat/completions", context => HandleAsync(context, TimeSpan.Zero));
        app.MapGet("/slow/v1/models", () => Results.Text("{\"object\":\"list\",\"data\":[]}", "application/json"));
        app.MapPost("/slow/v1/chat/completions", context => HandleAsync(context, SlowServiceTime));
        app.MapPost("/v1/embeddings", EmbedAsync);
        app.MapPost("/plugin/echo", PluginAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeOpenAi(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>One precomputed 64-dimension unit vector, answered for every input: a zero-latency embedder.</summary>
    private static readonly byte[] Vector = Encoding.UTF8.GetBytes(
        "[" + string.Join(",", Enumerable.Range(0, 64).Select(i => (i % 7 == 0 ? 0.3535534 : 0).ToString("0.#######", System.Globalization.CultureInfo.InvariantCulture))) + "]");

    private static async Task EmbedAsync(HttpContext context)
    {
        using var request = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var input = request.RootElement.GetProperty("input");
        var count = input.ValueKind == System.Text.Json.JsonValueKind.Array ? input.GetArrayLength() : 1;
        context.Response.ContentType = "application/json";
        var body = context.Response.Body;
        await body.WriteAsync("{\"object\":\"list\",\"model\":\"bench-embed\",\"data\":["u8.ToArray(), context.RequestAborted);
        for (var i = 0; i < count; i++)
        {
            await body.WriteAsync(Encoding.UTF8.GetBytes($"{(i == 0 ? "" : ",")}{{\"object\":\"embedding\",\"index\":{i},\"embedding\":"), context.RequestAborted);
            await body.WriteAsync(Vector, context.RequestAborted);
            await body.WriteAsync("}"u8.ToArray(), context.RequestAborted);
        }

        await body.WriteAsync(Encoding.UTF8.GetBytes($"],\"usage\":{{\"prompt_tokens\":{count * 100},\"total_tokens\":{count * 100}}}}}"), context.RequestAborted);
    }

    private static readonly byte[] PluginAnswer = "{\"output\":{\"echo\":\"hello from the fake plugin\"}}"u8.ToArray();

    /// <summary>An http plugin that answers at once (the body is drained, not parsed): the plugins suite's direct and through-the-platform target.</summary>
    private static async Task PluginAsync(HttpContext context)
    {
        await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = PluginAnswer.Length;
        await context.Response.Body.WriteAsync(PluginAnswer, context.RequestAborted);
    }

    private static async Task HandleAsync(HttpContext context, TimeSpan serviceTime)
    {
        // The request is drained but not parsed: only "stream":true matters, and it is found by a byte search.
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var stream = body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf("\"stream\":true"u8) >= 0;
        if (serviceTime > TimeSpan.Zero)
        {
            await Task.Delay(serviceTime + TimeSpan.FromMilliseconds(Random.Shared.Next(-10, 11)), context.RequestAborted);
        }

        if (!stream)
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = Completion.Length;
            await context.Response.Body.WriteAsync(Completion, context.RequestAborted);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var chunk in Chunks)
        {
            await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
}

/// <summary>
/// The cheapest possible extra hop, for scale: a bare Kestrel endpoint that copies the request to the fake upstream
/// and its answer back (no auth, routing table, quotas or usage rows), run in the benchmark process like the fake.
/// Whatever throughput it loses against direct is the price of one more HTTP server + client hop on this machine,
/// a floor no gateway can go below; the gateway's own pipeline is what it adds on top of this.
/// </summary>
internal sealed class BareForwarder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream;

    private BareForwarder(WebApplication app, HttpClient upstream, Uri baseUrl)
    {
        _app = app;
        _upstream = upstream;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public static async Task<BareForwarder> StartAsync(Uri upstreamBase)
    {
        // The same handler settings as the gateway's upstream pool, so the hop is priced the same way.
        var upstream = new HttpClient(new SocketsHttpHandler { UseProxy = false, ActivityHeadersPropagator = null }) { BaseAddress = upstreamBase };
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", context => ForwardAsync(context, upstream));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BareForwarder(app, upstream, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }

    private static async Task ForwardAsync(HttpContext context, HttpClient upstream)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new ByteArrayContent(body.ToArray()) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
        using var response = await upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        if (response.Content.Headers.ContentLength is { } length)
        {
            context.Response.ContentLength = length;
        }

        await using var content = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var buffer = new byte[4096];
        int read;
        while ((read = await content.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            // Chunk by chunk, as it arrives: a stream's first token must not wait for the rest.
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
}
