namespace Serverless.Functions.Platform.Http;

/// <summary>Every response carries X-Request-Id: the caller's, when it is a sane token, else a new one.</summary>
internal static class RequestIds
{
    public const string Header = "X-Request-Id";
    private const int MaxLength = 128;

    public static string Get(HttpContext context) => context.TraceIdentifier;

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var given = context.Request.Headers[Header].ToString();
        // A caller's id is echoed into logs and headers, so only harmless characters are accepted.
        context.TraceIdentifier = IsAcceptable(given) ? given : "req_" + Guid.CreateVersion7().ToString("N");
        context.Response.Headers[Header] = context.TraceIdentifier;
        return next(context);
    });

    private static bool IsAcceptable(string id) =>
        id.Length is > 0 and <= MaxLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
