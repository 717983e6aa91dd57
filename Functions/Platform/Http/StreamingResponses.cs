namespace Serverless.Functions.Platform.Http;

/// <summary>Starts a response whose body is written piece by piece as it is produced (SSE, NDJSON).</summary>
internal static class StreamingResponses
{
    /// <summary>Sets the status and headers; they leave with the first flushed piece, in the same packet.</summary>
    public static void Prepare(HttpResponse response, string contentType)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.Headers.CacheControl = "no-cache";
        // Reverse proxies (nginx, the Functions front end) must pass each piece on at once, not collect the body.
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>Sends the headers now, for bodies whose first piece may be long in coming (a model pull's progress).</summary>
    public static Task StartAsync(HttpResponse response, string contentType, CancellationToken cancellationToken)
    {
        Prepare(response, contentType);
        return response.StartAsync(cancellationToken);
    }
}
