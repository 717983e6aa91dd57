using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Webhooks;

public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A webhook receiver on 127.0.0.1: records every POST; <c>/ok</c> answers 200, <c>/status/{code}</c> that code (with
/// <c>?retryAfter=</c> as a Retry-After header), <c>/slow</c> waits 3 s, <c>/flaky/{n}</c> fails n times then succeeds.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public string BaseUrl { get; private set; } = "";

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        (receiver._app, receiver.BaseUrl) = await LoopbackServer.StartAsync(app => app.MapPost("/{**path}", receiver.HandleAsync));
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpContext context, string path)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        Received.Enqueue(new ReceivedWebhook("/" + path, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
        var calls = _calls.AddOrUpdate(path, 1, (_, n) => n + 1);
        var parts = path.Split('/');
        switch (parts[0])
        {
            case "slow":
                await Task.Delay(TimeSpan.FromSeconds(3), context.RequestAborted);
                return Results.Ok();
            case "status":
                if (context.Request.Query["retryAfter"] is { Count: > 0 } retryAfter)
                {
                    context.Response.Headers.RetryAfter = retryAfter.ToString();
                }

                return Results.Text("nope", statusCode: int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            case "flaky":
                return calls <= int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) ? Results.Text("down", statusCode: 500) : Results.Text("thanks");
            case "redirect":
                return Results.Redirect(BaseUrl + "/ok");
            default:
                return Results.Text("thanks");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
