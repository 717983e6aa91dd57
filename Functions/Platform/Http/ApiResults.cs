using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Serverless.Functions.Platform.Http;

/// <summary>Typed results that write the platform's envelopes; every handler returns one of these.</summary>
internal static class Api
{
    public static ApiResult<T> Ok<T>(T data) => new(StatusCodes.Status200OK, data);

    public static ApiResult<T> Created<T>(T data, string? location = null) => new(StatusCodes.Status201Created, data) { Location = location };

    public static ApiResult<T> Accepted<T>(T data) => new(StatusCodes.Status202Accepted, data);

    public static ApiResult<IReadOnlyList<T>> Page<T>(PageResult<T> page) =>
        new(StatusCodes.Status200OK, page.Items) { Pagination = page.Pagination, Total = page.Total, PageNumber = page.PageNumber };

    public static NoContentResult NoContent() => new();

    public static ErrorResult Error(int status, string code, string message, IReadOnlyList<FieldError>? details = null) =>
        new(status, code, message, details);

    public static ErrorResult BadRequest(string message, IReadOnlyList<FieldError>? details = null) =>
        Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidRequest, message, details);

    public static ErrorResult Validation(IReadOnlyList<FieldError> details, string message = "The request is not valid.") =>
        Error(StatusCodes.Status422UnprocessableEntity, ErrorCodes.ValidationError, message, details);

    public static ErrorResult Validation(string field, string message) => Validation([new FieldError(field, message)]);

    public static ErrorResult Unauthorized(string message = "Authentication is required.") =>
        Error(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, message);

    public static ErrorResult Forbidden(string message = "You are not allowed to do this.") =>
        Error(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, message);

    public static ErrorResult NotFound(string message = "The resource was not found.") =>
        Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, message);

    public static ErrorResult Conflict(string message) =>
        Error(StatusCodes.Status409Conflict, ErrorCodes.Conflict, message);

    internal static ApiMeta Meta(HttpContext context) =>
        new(context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(), ApiVersion.Current, RequestIds.Get(context));

    internal static JsonSerializerOptions JsonOptions(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
}

internal sealed class ApiResult<T>(int statusCode, T data) : IResult, IStatusCodeHttpResult, IValueHttpResult<T>
{
    public int? StatusCode => statusCode;
    public T? Value => data;
    public string? Location { get; init; }
    public Pagination? Pagination { get; init; }
    public long? Total { get; init; }
    public int? PageNumber { get; init; }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        if (Location is not null)
        {
            httpContext.Response.Headers.Location = Location;
        }

        var envelope = new ApiEnvelope<T>(true, data, Api.Meta(httpContext) with { Total = Total, Page = PageNumber }) { Pagination = Pagination };
        return httpContext.Response.WriteAsJsonAsync(envelope, Api.JsonOptions(httpContext), httpContext.RequestAborted);
    }
}

/// <summary>An error answer as data, for transports that carry it another way than an HTTP response (a WebSocket frame).</summary>
internal interface IApiErrorResult : IResult
{
    int Status { get; }
    ApiError Error { get; }
    int? RetryAfterSeconds { get; }
}

internal sealed class ErrorResult(int statusCode, string code, string message, IReadOnlyList<FieldError>? details) : IApiErrorResult, IStatusCodeHttpResult
{
    public int? StatusCode => statusCode;
    public string Code => code;
    public int Status => statusCode;
    public ApiError Error => new(code, message, details ?? []);
    public int? RetryAfterSeconds => null;

    public string Message => message;

    public Task ExecuteAsync(HttpContext httpContext) => ErrorWriter.WriteAsync(httpContext, statusCode, code, message, details);
}

internal sealed class NoContentResult : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status204NoContent;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }
}

internal static class ErrorWriter
{
    public static Task WriteAsync(HttpContext context, int statusCode, string code, string message, IReadOnlyList<FieldError>? details = null)
    {
        if (OpenAiErrors.Applies(context))
        {
            return OpenAiErrors.WriteAsync(context, statusCode, code, details is [{ } first, ..] ? $"{message} {first.Field}: {first.Message}" : message,
                details is [{ } field, ..] ? field.Field : null);
        }

        context.Response.StatusCode = statusCode;
        // The exception handler clears headers before it writes; the request id must survive that.
        context.Response.Headers[RequestIds.Header] = context.TraceIdentifier;
        var envelope = new ApiErrorEnvelope(false, new ApiError(code, message, details ?? []), Api.Meta(context));
        return context.Response.WriteAsJsonAsync(envelope, Api.JsonOptions(context), context.RequestAborted);
    }
}

internal static class ApiVersion
{
    public static readonly string Current =
        typeof(ApiVersion).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0";
}
