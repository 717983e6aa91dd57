using System.Globalization;
using System.Text.Json;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Platform.Ai;

/// <summary>How a failed model call leaves the API: OpenAI's error shape under /v1, the platform envelope elsewhere.</summary>
internal static class ModelResults
{
    public static string CodeOf(ModelFailure failure) => failure.Kind switch
    {
        ModelFailureKind.InvalidRequest or ModelFailureKind.UpstreamRejected => ErrorCodes.InvalidRequest,
        ModelFailureKind.ModelNotFound => ErrorCodes.NotFound,
        ModelFailureKind.NotAllowed => ErrorCodes.Forbidden,
        ModelFailureKind.Quota => ErrorCodes.QuotaExceeded,
        _ => ErrorCodes.AiServiceError,
    };

    /// <summary>The platform error envelope for a failed in-process call made on behalf of a native endpoint.</summary>
    public static IResult ToApiResult(this ModelFailure failure) => new FailureResult(failure, openAi: false);

    public static IResult ToOpenAiResult(this ModelFailure failure) => new FailureResult(failure, openAi: true);

    private sealed class FailureResult(ModelFailure failure, bool openAi) : IApiErrorResult, IStatusCodeHttpResult
    {
        public int? StatusCode => failure.Status;

        public int Status => failure.Status;

        public ApiError Error => new(CodeOf(failure), failure.Message, failure.Param is { } param ? [new FieldError(param, failure.Message)] : []);

        public int? RetryAfterSeconds => failure.RetryAfterSeconds is { } seconds ? Math.Max(1, seconds) : null;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            if (RetryAfterSeconds is { } seconds)
            {
                httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            // The upstream's own explanation of a request it refused helps the caller fix it; it is already in OpenAI's shape.
            if (openAi && failure.UpstreamBody is { } upstream && IsOpenAiError(upstream))
            {
                httpContext.Response.StatusCode = failure.Status;
                httpContext.Response.ContentType = "application/json";
                await httpContext.Response.Body.WriteAsync(upstream.ToMemory(), httpContext.RequestAborted);
                return;
            }

            if (openAi)
            {
                await OpenAiErrors.WriteAsync(httpContext, failure.Status, CodeOf(failure), failure.Message, failure.Param);
            }
            else
            {
                var error = Error;
                await ErrorWriter.WriteAsync(httpContext, failure.Status, error.Code, error.Message, error.Details);
            }
        }

        private static bool IsOpenAiError(BinaryData body)
        {
            try
            {
                using var document = JsonDocument.Parse(body.ToMemory());
                return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error)
                    && error.ValueKind == JsonValueKind.Object;
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
