using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Plugins;

internal static class PluginErrors
{
    public const string InputInvalid = "PLUGIN_INPUT_INVALID";
    public const string OutputInvalid = "PLUGIN_OUTPUT_INVALID";
    public const string CapabilityDenied = "CAPABILITY_DENIED";
    public const string Disabled = "PLUGIN_DISABLED";
    public const string NotConfigured = "PLUGIN_NOT_CONFIGURED";
    public const string Failed = "PLUGIN_FAILED";
    public const string Unreachable = "PLUGIN_UNREACHABLE";
    public const string Timeout = "PLUGIN_TIMEOUT";
}

/// <summary>What one plugin execution came to: an output, or an error code (<see cref="PluginErrors"/>) with a message.</summary>
internal sealed record PluginOutcome(JsonNode? Output, string? ErrorCode, string? Error, bool Retryable = false, IReadOnlyList<FieldError>? Details = null)
{
    public bool Succeeded => ErrorCode is null;

    public static PluginOutcome Success(JsonNode? output) => new(output, null, null);

    public static PluginOutcome Fail(string code, string message, bool retryable = false, IReadOnlyList<FieldError>? details = null) =>
        new(null, code, message, retryable, details);

    /// <summary>The HTTP status a synchronous execute answers a failure with.</summary>
    public int HttpStatus => ErrorCode switch
    {
        null => StatusCodes.Status200OK,
        PluginErrors.InputInvalid => StatusCodes.Status422UnprocessableEntity,
        PluginErrors.CapabilityDenied => StatusCodes.Status403Forbidden,
        PluginErrors.Disabled or PluginErrors.NotConfigured => StatusCodes.Status409Conflict,
        PluginErrors.Timeout => StatusCodes.Status504GatewayTimeout,
        _ => StatusCodes.Status502BadGateway,
    };
}

/// <summary>
/// The one HTTP client plugins go out through (http runtimes, the web reader): no proxy, no cookies, and the private
/// network guard on every connection, so a name that resolves to an internal address is refused after DNS, redirects included.
/// </summary>
internal sealed class PluginHttp
{
    public PluginHttp(PluginGuard guard, IOptions<PluginsOptions> options)
    {
        Options = options.Value;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 5,
            UseProxy = false,
            UseCookies = false,
            ConnectCallback = guard.ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        };
        Client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HttpClient Client { get; }

    public PluginsOptions Options { get; }

    /// <summary>The body as text, at most <see cref="PluginsOptions.MaxResponseBytes"/> (null when it is longer).</summary>
    public async Task<string?> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var limit = Options.MaxResponseBytes;
        if (response.Content.Headers.ContentLength > limit)
        {
            return null;
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        var charset = response.Content.Headers.ContentType?.CharSet;
        var encoding = System.Text.Encoding.UTF8;
        try
        {
            if (!string.IsNullOrWhiteSpace(charset))
            {
                encoding = System.Text.Encoding.GetEncoding(charset.Trim('"'));
            }
        }
        catch (ArgumentException)
        {
            // An unknown charset: read it as UTF-8.
        }

        return encoding.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
