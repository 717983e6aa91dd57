namespace Serverless.Functions.Platform.Http;

/// <summary>Starts a response whose body is written piece by piece as it is produced (SSE, NDJSON).</summary>
internal static class StreamingResponses
{
    public static Task StartAsync(HttpResponse response, string contentType, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-cache";
        // Reverse proxies (nginx, the Functions front end) must pass each piece on at once, not collect the body.
        response.Headers["X-Accel-Buffering"] = "no";
        return response.StartAsync(cancellationToken);
    }
}
