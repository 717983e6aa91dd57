using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Nodes;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class SubmitReview
{
    internal sealed record Request(string? NodeId, string? Decision, JsonNode? Data);

    internal sealed record Response(string ExecutionId, string NodeId, string Decision);

    public static async Task<IResult> HandleAsync(
        string id, Request request, Caller caller, WorkspaceContext workspace, WorkflowRuns runs, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .Require("nodeId", request.NodeId, 64)
            .When(request.Decision is not ("approve" or "reject"), "decision", "decision must be approve or reject.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await Executions.FindAsync(runs, workspace, id, cancellationToken) is null)
        {
            return Api.NotFound("The execution was not found.");
        }

        var payload = new JsonObject
        {
            ["decision"] = request.Decision,
            ["data"] = request.Data?.DeepClone(),
            ["reviewedBy"] = caller.UserId,
            ["reviewedAt"] = time.GetUtcNow(),
        };
        return await runs.SubmitEventAsync(id, request.NodeId!, HumanReviewNode.EventName, payload, cancellationToken) switch
        {
            RunActionOutcome.Done => Api.Accepted(new Response(id, request.NodeId!, request.Decision!)),
            RunActionOutcome.NotFound => Api.NotFound("The execution was not found."),
            _ => Api.Conflict($"Node {request.NodeId} is not waiting for a review."),
        };
    }
}
