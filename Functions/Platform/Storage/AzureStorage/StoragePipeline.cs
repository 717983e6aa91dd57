using System.Globalization;
using System.Net;

namespace Serverless.Functions.Platform.Storage.AzureStorage;

/// <summary>
/// The one way every Table, Queue and Blob request leaves the process: it stamps the protocol headers, authorizes
/// each attempt (Shared Key or bearer token), bounds each attempt by a timeout, and retries with exponential
/// backoff and jitter on timeouts, connection failures and the statuses the services use for transient trouble.
/// </summary>
/// <remarks>
/// A write whose answer was lost but which the service applied is retried like any other: an insert then reports
/// Conflict and an enqueue leaves a second message. The ports promise no more (at-least-once delivery, inserts that
/// callers already treat as "exists"), as the Azure SDKs' own retries do.
/// </remarks>
internal sealed class StoragePipeline : IDisposable
{
    /// <summary>The REST version every request asks for (supported by Azure and by Azurite 3.37).</summary>
    public const string ApiVersion = "2025-01-05";

    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly IStorageAuthorizer _authorizer;
    private readonly int _maxRetries;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeSpan _firstDelay;
    private readonly ILogger _logger;

    public StoragePipeline(
        HttpMessageHandler handler, IStorageAuthorizer authorizer, int maxRetries, TimeSpan attemptTimeout, TimeSpan firstDelay, ILogger logger)
    {
        // Timeouts are per attempt (below), so the client itself never gives up on its own.
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _authorizer = authorizer;
        _maxRetries = maxRetries;
        _attemptTimeout = attemptTimeout;
        _firstDelay = firstDelay;
        _logger = logger;
    }

    public static SocketsHttpHandler CreateHandler() => new()
    {
        // Renewing connections now and then follows DNS changes of the service endpoints.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // Azurite closes idle keep-alive connections after 5 s; dropping ours first avoids sending on a dead socket.
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(4),
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = 64,
    };

    /// <summary>
    /// Sends the request <paramref name="createRequest"/> builds (called again for every attempt, since a request
    /// cannot be sent twice) and returns the first response that is not transient, or the last one.
    /// </summary>
    /// <exception cref="StorageUnavailableException">Every attempt failed to get a response.</exception>
    public async Task<HttpResponseMessage> SendAsync(
        StorageService service, Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = createRequest();
            request.Headers.TryAddWithoutValidation("x-ms-version", ApiVersion);
            // The wall clock, not the app's TimeProvider: the service rejects a signature dated outside ±15 minutes.
            request.Headers.TryAddWithoutValidation("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("x-ms-client-request-id", Guid.NewGuid().ToString());
            await _authorizer.AuthorizeAsync(request, service, cancellationToken);

            HttpResponseMessage? response = null;
            string failure;
            Exception? error = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_attemptTimeout);
                try
                {
                    response = await _http.SendAsync(request, completion, timeout.Token);
                    if (!IsTransient(response.StatusCode))
                    {
                        return response;
                    }

                    failure = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                }
                catch (HttpRequestException e)
                {
                    failure = e.HttpRequestError.ToString();
                    error = e;
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = "timeout";
                    error = e;
                }
            }

            if (attempt >= _maxRetries)
            {
                if (response is not null)
                {
                    return response;
                }

                throw new StorageUnavailableException($"{service} storage did not answer {request.Method} {request.RequestUri?.AbsolutePath} after {attempt + 1} attempts ({failure}).", error);
            }

            var delay = Backoff(attempt, response?.Headers.RetryAfter);
            response?.Dispose();
            AzureStorageLog.Retrying(_logger, service, request.Method.Method, failure, attempt + 1, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>
    /// Sends; when the service answers 404 with <paramref name="missingCode"/> (the table, queue or container does
    /// not exist yet), runs <paramref name="createMissing"/> and sends once more. Resources are created on first use,
    /// so a fresh account (Azurite, or Azure before the infrastructure declared them) needs no setup step.
    /// </summary>
    public async Task<HttpResponseMessage> SendCreatingAsync(
        StorageService service, Func<HttpRequestMessage> createRequest, string missingCode, Func<CancellationToken, Task> createMissing, CancellationToken cancellationToken)
    {
        var response = await SendAsync(service, createRequest, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound || StorageResponses.ErrorCode(response) != missingCode)
        {
            return response;
        }

        response.Dispose();
        await createMissing(cancellationToken);
        return await SendAsync(service, createRequest, cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Timeouts, throttling and server trouble, as the Azure SDKs classify them.</summary>
    public static bool IsTransient(HttpStatusCode status) => status is
        HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
        or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private TimeSpan Backoff(int attempt, System.Net.Http.Headers.RetryConditionHeaderValue? retryAfter)
    {
        // Throttling says how long to wait; otherwise full-jitter exponential backoff spreads competing clients.
        if (retryAfter?.Delta is { } delta)
        {
            return delta < MaxDelay ? delta : MaxDelay;
        }

        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, _firstDelay.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }
}

/// <summary>A storage service gave no usable answer within the retries.</summary>
internal sealed class StorageUnavailableException(string message, Exception? inner) : Exception(message, inner);

/// <summary>A storage service answered with an error this adapter does not expect.</summary>
internal sealed class StorageRequestException(string message, HttpStatusCode status, string? errorCode) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    public string? ErrorCode { get; } = errorCode;

    public static async Task<StorageRequestException> FromAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        var code = StorageResponses.ErrorCode(response);
        string detail;
        try
        {
            detail = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            detail = "";
        }

        // The service's message helps an operator; it never contains request secrets.
        if (detail.Length > 500)
        {
            detail = detail[..500];
        }

        return new StorageRequestException($"{operation} failed: {(int)response.StatusCode} {code} {detail}".TrimEnd(), response.StatusCode, code);
    }
}

internal static class StorageResponses
{
    /// <summary>The service's error code (every service sends <c>x-ms-error-code</c>).</summary>
    public static string? ErrorCode(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-ms-error-code", out var values) ? values.FirstOrDefault() : null;

    public static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    public static string ETag(HttpResponseMessage response) =>
        response.Headers.ETag?.ToString() ?? Header(response, "ETag") ?? throw new InvalidOperationException("The storage response carries no ETag.");
}
