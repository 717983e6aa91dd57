using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Graphs;

/// <summary>
/// <c>POST /v1/graphs/{id}/execute</c> (AutoGPT's external API) and <c>POST /api/v1/graphs/{id}/execute</c>: starts a run.
/// The body is <c>{inputs}</c> (or <c>{input}</c>) with an optional <c>graph_version</c>, or, as AutoGPT's older external
/// API sent it, the inputs themselves.
/// </summary>
internal static class ExecuteGraph
{
    internal sealed record Response(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("graph_exec_id")] string GraphExecId,
        [property: JsonPropertyName("graph_id")] string GraphId,
        [property: JsonPropertyName("graph_version")] int GraphVersion,
        [property: JsonPropertyName("status")] string Status)
    {
        public static Response From(ExecutionDocument run) => new(run.Id, run.Id, run.WorkflowId, run.Version, run.Status);
    }

    public static async Task<IResult> HandleAsync(
        string id, JsonObject? body, Caller caller, WorkspaceContext workspace, WorkflowRunner runner, CancellationToken cancellationToken)
    {
        var (run, error) = await StartAsync(id, body, caller, workspace, runner, cancellationToken);
        return error ?? Api.Accepted(Response.From(run!));
    }

    /// <summary>AutoGPT answers a started run with 200 and a bare body.</summary>
    public static async Task<IResult> HandleExternalAsync(
        string id, JsonObject? body, Caller caller, WorkspaceContext workspace, WorkflowRunner runner, CancellationToken cancellationToken)
    {
        var (run, error) = await StartAsync(id, body, caller, workspace, runner, cancellationToken);
        return error ?? Results.Json(Response.From(run!));
    }

    private static async Task<(ExecutionDocument? Run, IResult? Error)> StartAsync(
        string id, JsonObject? body, Caller caller, WorkspaceContext workspace, WorkflowRunner runner, CancellationToken cancellationToken)
    {
        body ??= [];
        var wrapped = body["inputs"] ?? body["input"];
        if (wrapped is not null and not JsonObject)
        {
            return (null, Api.Validation("inputs", "inputs must be an object."));
        }

        var inputs = wrapped is JsonObject given ? given.DeepClone().AsObject() : body.DeepClone().AsObject();
        var version = wrapped is null ? null : body["graph_version"] ?? body["version"];
        int? pinned = null;
        if (version is not null)
        {
            if (JsonValues.AsNumber(version) is not { } number || number < 1 || number > int.MaxValue || number != Math.Floor(number))
            {
                return (null, Api.Validation("graph_version", "graph_version must be a positive whole number."));
            }

            pinned = (int)number;
        }

        return await runner.StartAsync(workspace.WorkspaceId, id, pinned, inputs, null, RunPrincipals.Of(caller), cancellationToken);
    }
}
