using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Serverless.Functions.Platform.Http;

/// <summary>
/// The one place that turns failures into the error envelope: framework rejections (malformed JSON, missing
/// body, wrong content type, body too large), bare status codes (unknown route, wrong method), and unexpected
/// exceptions (500 without any detail of the exception).
/// </summary>
internal static partial class ErrorHandling
{
    public static IApplicationBuilder UseErrorEnvelopes(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = HandleExceptionAsync,
            // Bad input is answered as a 4xx by this handler; a 500 is logged by it once, so the framework need not.
            SuppressDiagnosticsCallback = _ => true,
        });
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var message = status == StatusCodes.Status404NotFound && http.GetEndpoint() is null
                ? $"No endpoint matches {http.Request.Method} {http.Request.Path}."
                : WellFormedJson.Refused(http) ? WellFormedJson.Message : ErrorCodes.DefaultMessage(status);
            return ErrorWriter.WriteAsync(http, status, ErrorCodes.ForStatus(status), message);
        });
        return app;
    }

    private static Task HandleExceptionAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var (status, message, details) = Describe(exception);
        if (status >= 500)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Serverless.Functions.Errors");
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path.Value ?? "", context.TraceIdentifier);
        }

        return ErrorWriter.WriteAsync(context, status, ErrorCodes.ForStatus(status), message, details);
    }

    private static (int Status, string Message, IReadOnlyList<FieldError>? Details) Describe(Exception? exception)
    {
        if (exception is BadHttpRequestException { Message: WellFormedJson.Message })
        {
            return (400, WellFormedJson.Message, null);
        }

        switch (exception)
        {
            case BadHttpRequestException { InnerException: JsonException json }:
                return (400, DescribeJson(json), json.Path is { Length: > 2 } path ? [new FieldError(path[2..], "has an invalid value or type.")] : null);
            case BadHttpRequestException { StatusCode: 413 }:
                return (413, "The request body is too large.", null);
            case BadHttpRequestException { StatusCode: 415 }:
                return (415, "Send the body as application/json.", null);
            case BadHttpRequestException bad when bad.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase):
                return (400, "A JSON request body is required.", null);
            case BadHttpRequestException bad when bad.StatusCode is >= 400 and < 500:
                return (bad.StatusCode, ErrorCodes.DefaultMessage(bad.StatusCode), null);
            case OperationCanceledException:
                // The client went away; nobody reads this answer, but the status must not claim a server fault.
                return (499, "The request was cancelled.", null);
            default:
                return (500, "An unexpected error occurred. Quote the request id when reporting it.", null);
        }
    }

    /// <summary>Where JSON input failed to read, without echoing the input or naming our types.</summary>
    internal static string DescribeJson(JsonException json, string subject = "The request body") =>
        json.LineNumber is { } line
            ? $"{subject} is not valid JSON for this endpoint (line {line + 1}, position {json.BytePositionInLine + 1})."
            : $"{subject} is not valid JSON for this endpoint.";

    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path} (request {RequestId})")]
    private static partial void LogUnhandled(ILogger logger, Exception? exception, string method, string path, string requestId);
}
