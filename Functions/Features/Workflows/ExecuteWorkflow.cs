using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class ExecuteWorkflow
{
    /// <summary><c>input</c> (FlowAtGenAI) or <c>inputs</c>; <c>version</c> pins an older version.</summary>
    internal sealed record Request(JsonObject? Input, JsonObject? Inputs, JsonObject? Metadata, int? Version);

    public static async Task<IResult> HandleAsync(string id, Request? request, Caller caller, WorkspaceContext workspace, WorkflowRunner runner, CancellationToken cancellationToken)
    {
        var inputs = request?.Input ?? request?.Inputs ?? [];
        var (run, error) = await runner.StartAsync(workspace.WorkspaceId, id, request?.Version, inputs, request?.Metadata, RunPrincipals.Of(caller), cancellationToken);
        return error ?? Api.Accepted(new ExecutionAcceptedDto(run!.Id, run.Status, run.WorkflowId, run.Version));
    }
}
