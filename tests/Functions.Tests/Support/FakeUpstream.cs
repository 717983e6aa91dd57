using Microsoft.AspNetCore.Hosting;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Functions.Tests.Support;

/// <summary>
/// A real HTTP server on 127.0.0.1 for http_request nodes to call: <c>/echo</c> (JSON back), <c>/flaky/{key}?failures=n</c>
/// (500 for the first n calls per key, then 200), <c>/slow?ms=n</c>, <c>/status/{code}</c>, and a call counter per path.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private WebApplication _app = null!;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Keys whose flaky endpoint should now succeed regardless of its failure count.</summary>
    public ConcurrentDictionary<string, bool> Healed { get; } = new();

    public int Calls(string path) => _calls.GetValueOrDefault(path);

    public static async Task<FakeUpstream> StartAsync()
    {
        var upstream = new FakeUpstream();
        (upstream._app, upstream.BaseUrl) = await LoopbackServer.StartAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                upstream._calls.AddOrUpdate(context.Request.Path.Value ?? "", 1, (_, n) => n + 1);
                await next(context);
            });
            app.MapPost("/echo", async (HttpRequest request) => Results.Json(new { received = await new StreamReader(request.Body).ReadToEndAsync(), method = request.Method, header = request.Headers["X-Test"].ToString() }));
            app.MapGet("/echo", (HttpRequest request) => Results.Json(new { method = request.Method, query = request.QueryString.Value, header = request.Headers["X-Test"].ToString() }));
            app.MapGet("/flaky/{key}", (string key, int failures) =>
            {
                var n = upstream._calls.GetValueOrDefault("/flaky/" + key);
                return n <= failures && !upstream.Healed.ContainsKey(key) ? Results.StatusCode(500) : Results.Json(new { ok = true, call = n });
            });
            app.MapGet("/idempotency", (HttpRequest request) => Results.Json(new { key = request.Headers["Idempotency-Key"].ToString() }));
            app.MapGet("/slow", async (int ms, CancellationToken cancellationToken) =>
            {
                await Task.Delay(ms, cancellationToken);
                return Results.Json(new { slept = ms });
            });
            app.MapGet("/status/{code:int}", (int code) => Results.Json(new { code }, statusCode: code));
        });
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
