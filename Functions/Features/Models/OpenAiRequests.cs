using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Models;

/// <summary>What the /v1 handlers share: who the call is for, and the upstream body written back unchanged.</summary>
internal static class OpenAiRequests
{
    public static ModelCaller CallerOf(Caller caller, WorkspaceContext workspace) =>
        new(workspace.WorkspaceId, caller.UserId, caller.ApiKeyId, caller.ModelLimits);

    public static bool IsTrue(JsonNode? node) => node is JsonValue value && value.TryGetValue(out bool flag) && flag;

    /// <summary>The provider's JSON as it came (OpenAI's shape), without a parse and re-serialize on the hot path.</summary>
    public static IResult Raw(ModelResponse response) => new RawJson(response.Body);

    private sealed class RawJson(BinaryData body) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json";
            httpContext.Response.ContentLength = body.ToMemory().Length;
            return httpContext.Response.Body.WriteAsync(body.ToMemory(), httpContext.RequestAborted).AsTask();
        }
    }
}
