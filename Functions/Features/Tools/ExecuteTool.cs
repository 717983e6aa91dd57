using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tools;

/// <summary>
/// <c>POST /api/v1/tools/execute</c> and AutoGPT's external <c>POST /v1/tools/execute</c> <c>{tool, input}</c>: runs a
/// block or a plugin now, as the caller (see <see cref="ToolRunner"/>). A failure is the error envelope.
/// </summary>
internal static class ExecuteTool
{
    internal sealed record Request(string? Tool, JsonObject? Input);

    public static async Task<IResult> HandleAsync(Request? request, Caller caller, WorkspaceContext workspace, ToolRunner tools, CancellationToken cancellationToken)
    {
        var (result, error) = await tools.RunAsync(request?.Tool, request?.Input, caller, workspace, cancellationToken);
        return error ?? Api.Ok(result!);
    }

    /// <summary>The external API answers the result bare, as AutoGPT's does.</summary>
    public static async Task<IResult> HandleExternalAsync(Request? request, Caller caller, WorkspaceContext workspace, ToolRunner tools, CancellationToken cancellationToken)
    {
        var (result, error) = await tools.RunAsync(request?.Tool, request?.Input, caller, workspace, cancellationToken);
        return error ?? Results.Json(result);
    }
}
