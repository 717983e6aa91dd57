using System.Text.Json.Serialization;

namespace Serverless.Functions.Platform.Http;

/// <summary>The success envelope every native endpoint answers with.</summary>
internal sealed record ApiEnvelope<T>(bool Success, T Data, ApiMeta Meta)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Pagination? Pagination { get; init; }
}

internal sealed record ApiErrorEnvelope(bool Success, ApiError Error, ApiMeta Meta);

internal sealed record ApiError(string Code, string Message, IReadOnlyList<FieldError>? Details);

internal sealed record FieldError(string Field, string Message);

internal sealed record ApiMeta(DateTimeOffset Timestamp, string Version, string RequestId)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Total { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Page { get; init; }
}

internal sealed record Pagination(bool HasMore, string? NextCursor, int Limit);

internal static class ErrorCodes
{
    public const string InvalidRequest = "INVALID_REQUEST";
    public const string ValidationError = "VALIDATION_ERROR";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Forbidden = "FORBIDDEN";
    public const string NotFound = "NOT_FOUND";
    public const string Conflict = "CONFLICT";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string RateLimitExceeded = "RATE_LIMIT_EXCEEDED";
    public const string QuotaExceeded = "QUOTA_EXCEEDED";
    public const string WorkflowError = "WORKFLOW_ERROR";
    public const string AiServiceError = "AI_SERVICE_ERROR";
    public const string InternalError = "INTERNAL_ERROR";

    /// <summary>The code a bare status gets when nothing more specific was said (status pages, framework rejections).</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => InvalidRequest,
        401 => Unauthorized,
        402 => QuotaExceeded,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        422 => ValidationError,
        429 => RateLimitExceeded,
        502 => AiServiceError,
        _ when status >= 500 => InternalError,
        _ => InvalidRequest,
    };

    public static string DefaultMessage(int status) => status switch
    {
        400 => "The request is malformed.",
        401 => "Authentication is required.",
        403 => "You are not allowed to do this.",
        404 => "The resource was not found.",
        405 => "This method is not allowed on this resource.",
        409 => "The request conflicts with the current state.",
        413 => "The request body is too large.",
        415 => "The content type is not supported.",
        422 => "The request is not valid.",
        429 => "Too many requests.",
        _ when status >= 500 => "An unexpected error occurred.",
        _ => "The request failed.",
    };
}
