using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Serverless.Functions.Platform.Http;

internal sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Largest request body accepted by default; an endpoint may declare its own limit.</summary>
    public long MaxRequestBodyBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Comma-separated host names or IP addresses that outbound calls (the http_request node) may reach although
    /// they are private or loopback. Empty: none, so user-supplied URLs cannot reach internal services.
    /// </summary>
    public string AllowedPrivateHosts { get; set; } = "";

    public IReadOnlyList<string> AllowedPrivateHostList =>
        AllowedPrivateHosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Applies the body limit before any handler reads: a declared Content-Length over the limit is refused at once
/// with 413; a chunked body is cut off by the server's own limit, which this sets per endpoint.
/// </summary>
internal static class BodySizeLimit
{
    public static IApplicationBuilder UseBodySizeLimit(this IApplicationBuilder app, long defaultLimit) => app.Use((context, next) =>
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? defaultLimit;
        if (context.Request.ContentLength > limit)
        {
            return ErrorWriter.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
                $"The request body is larger than the limit of {limit} bytes.");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        return next(context);
    });
}
