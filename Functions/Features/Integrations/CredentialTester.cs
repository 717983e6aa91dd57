using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Integrations;

/// <param name="Rejected">The provider refused the credential itself (401/403, or an auth error in a 200 answer).</param>
internal sealed record TestOutcome(bool Ok, int? Status, long LatencyMs, string? Error, bool Rejected);

/// <summary>
/// Makes a provider's test request with a resolved credential: connections go through <see cref="IntegrationGuard"/>
/// (no internal addresses unless allow-listed, whatever a name resolves to now), redirects are not followed (they
/// could carry the credential elsewhere), and the answer's body is read only as far as a success field needs.
/// </summary>
internal sealed class CredentialTester : IDisposable
{
    private const int MaxBodyBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly IOptions<IntegrationsOptions> _options;

    public CredentialTester(IntegrationGuard guard, IOptions<IntegrationsOptions> options)
    {
        _options = options;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // A proxy would make the guard check the proxy's address instead of the provider's.
            UseProxy = false,
            UseCookies = false,
            ConnectCallback = guard.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<TestOutcome> SendAsync(ProviderTest test, Uri url, ResolvedCredential credential, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod(test.Method), url);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("serverless-platform-integrations", "1"));
        credential.ApplyTo(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.Value.TestTimeoutSeconds));
        var started = Stopwatch.GetTimestamp();
        long Elapsed() => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (CredentialRefusals.IsRejection(status))
            {
                return new TestOutcome(false, status, Elapsed(), $"HTTP {status}: the provider refused the credential.", Rejected: true);
            }

            if (status is < 200 or >= 300)
            {
                return new TestOutcome(false, status, Elapsed(), status is >= 300 and < 400 ? $"HTTP {status} (redirects are not followed)" : $"HTTP {status}", false);
            }

            if (test.SuccessField is not { } field)
            {
                return new TestOutcome(true, status, Elapsed(), null, false);
            }

            var body = await ReadJsonAsync(response, timeout.Token);
            if (body?[field] is JsonValue flag && flag.GetValueKind() == JsonValueKind.True)
            {
                return new TestOutcome(true, status, Elapsed(), null, false);
            }

            var error = body?["error"] is JsonValue e && e.GetValueKind() == JsonValueKind.String ? e.GetValue<string>() : null;
            return new TestOutcome(false, status, Elapsed(), credential.Redact($"The answer's {field} is not true ({error ?? "no error given"})."),
                error is not null && test.RejectedErrors?.Contains(error, StringComparer.Ordinal) == true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new TestOutcome(false, null, Elapsed(), $"No answer within {_options.Value.TestTimeoutSeconds} s.", false);
        }
        catch (HttpRequestException exception)
        {
            // The message names the host at most (the guard's refusal, a refused connection); scrubbed all the same.
            return new TestOutcome(false, null, Elapsed(), credential.Redact(exception.Message), false);
        }
    }

    public void Dispose() => _http.Dispose();

    private static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxBodyBytes];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is > 0 and var n)
        {
            read += n;
        }

        try
        {
            return JsonNode.Parse(buffer.AsSpan(0, read));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
