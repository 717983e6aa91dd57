using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Webhooks;

/// <summary>What one delivery attempt got: a status code (null when no response came), the start of the body, a wait the receiver asked for.</summary>
internal sealed record SendOutcome(int? StatusCode, string? ResponseBody, TimeSpan? RetryAfter, string? Error, long LatencyMs)
{
    public bool Delivered => StatusCode is >= 200 and < 300;
}

/// <summary>
/// POSTs signed webhook payloads. Connections go through <see cref="WebhookGuard"/> (no internal addresses, whatever the
/// name resolves to now), redirects are not followed (a 3xx is a failure), and each attempt has its own time limit.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    public const int MaxResponseBytes = 4096;

    private readonly HttpClient _http;
    private readonly IOptions<WebhooksOptions> _options;
    private readonly TimeProvider _time;

    public WebhookSender(WebhookGuard guard, IOptions<WebhooksOptions> options, TimeProvider time)
    {
        _options = options;
        _time = time;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // A proxy would make the guard check the proxy's address instead of the receiver's.
            UseProxy = false,
            ConnectCallback = guard.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ActivityHeadersPropagator = null,
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<SendOutcome> SendAsync(
        Uri url, string webhookId, string eventType, string secret, string body, CancellationToken cancellationToken)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("serverless-platform-webhooks", "1"));
        request.Headers.Add("X-Webhook-Id", webhookId);
        request.Headers.Add("X-Webhook-Event", eventType);
        request.Headers.Add("X-Webhook-Timestamp", timestamp);
        request.Headers.Add("X-Webhook-Signature", PayloadSignature.Sign(secret, timestamp, Encoding.UTF8.GetBytes(body)));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.Value.TimeoutSeconds));
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var text = await ReadStartAsync(response, timeout.Token);
            var latency = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var code = (int)response.StatusCode;
            var error = code is >= 200 and < 300 ? null : code is >= 300 and < 400 ? $"HTTP {code} (redirects are not followed)" : $"HTTP {code}";
            return new SendOutcome(code, text, RetryAfterOf(response), error, latency);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendOutcome(null, null, null, $"No response within {_options.Value.TimeoutSeconds} s.", (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (HttpRequestException exception)
        {
            // The message names the host at most (the guard's refusal, a refused connection), never the secret or the body.
            return new SendOutcome(null, null, null, exception.Message, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    public void Dispose() => _http.Dispose();

    private static async Task<string> ReadStartAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseBytes];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is > 0 and var n)
        {
            read += n;
        }

        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };
}
