using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Integrations;

public sealed record ReceivedCall(string Path, string Authorization, string ApiKey, string Query);

/// <summary>
/// An API on 127.0.0.1 that checks credentials: <c>/me</c> answers 200 to <see cref="GoodToken"/> (as a bearer token,
/// an X-Api-Key header, or an api_key query parameter) and 401 to anything else; <c>/forbidden</c> always 403;
/// <c>/echo</c> answers with what it received, secret and all (as a careless API would).
/// </summary>
public sealed class CredentialUpstream : IAsyncDisposable
{
    public const string GoodToken = "good-token-7c1f0e9a55d2";

    private WebApplication _app = null!;

    public ConcurrentQueue<ReceivedCall> Received { get; } = new();

    public string BaseUrl { get; private set; } = "";

    public static async Task<CredentialUpstream> StartAsync()
    {
        var upstream = new CredentialUpstream();
        (upstream._app, upstream.BaseUrl) = await LoopbackServer.StartAsync(app =>
        {
            app.Use(async (context, next) =>
            {
                upstream.Received.Enqueue(new ReceivedCall(context.Request.Path, context.Request.Headers.Authorization.ToString(),
                    context.Request.Headers["X-Api-Key"].ToString(), context.Request.QueryString.Value ?? ""));
                await next(context);
            });
            app.MapGet("/me", (HttpRequest request) =>
                request.Headers.Authorization == "Bearer " + GoodToken || request.Headers["X-Api-Key"] == GoodToken || request.Query["api_key"] == GoodToken
                    ? Results.Json(new { login = "octocat" })
                    : Results.Json(new { message = "Bad credentials" }, statusCode: 401));
            app.MapGet("/forbidden", () => Results.Json(new { message = "Forbidden" }, statusCode: 403));
            app.MapGet("/echo", (HttpRequest request) => Results.Json(new
            {
                authorization = request.Headers.Authorization.ToString(),
                apiKey = request.Headers["X-Api-Key"].ToString(),
                query = request.QueryString.Value,
            }));
        });
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
