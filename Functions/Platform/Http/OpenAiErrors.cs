using System.Text.Json.Serialization;

namespace Serverless.Functions.Platform.Http;

/// <summary>
/// The OpenAI-compatible API under /v1 answers errors in OpenAI's shape (<c>{"error":{"message","type","param","code"}}</c>),
/// so OpenAI clients read them; <see cref="ErrorWriter"/> routes every error of that tree here, including the
/// framework's and the middlewares' (401, 429, malformed JSON, unknown routes).
/// </summary>
internal static class OpenAiErrors
{
    public const string PathPrefix = "/v1";

    public static bool Applies(HttpContext context) => context.Request.Path.StartsWithSegments(PathPrefix, StringComparison.Ordinal);

    public static Task WriteAsync(HttpContext context, int statusCode, string code, string message, string? param = null)
    {
        context.Response.StatusCode = statusCode;
        context.Response.Headers[RequestIds.Header] = context.TraceIdentifier;
        var body = new OpenAiErrorBody(new OpenAiError(message, TypeFor(statusCode), param, code));
        return context.Response.WriteAsJsonAsync(body, Api.JsonOptions(context), context.RequestAborted);
    }

    public static string TypeFor(int status) => status switch
    {
        401 => "authentication_error",
        402 => "insufficient_quota",
        403 => "permission_error",
        429 => "rate_limit_error",
        504 => "timeout_error",
        500 => "server_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };
}

internal sealed record OpenAiErrorBody(OpenAiError Error);

internal sealed record OpenAiError(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    string Code);
