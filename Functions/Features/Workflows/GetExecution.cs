using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class GetExecution
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, WorkflowRuns runs, CancellationToken cancellationToken) =>
        await Executions.FindAsync(runs, workspace, id, cancellationToken) is { } run
            ? Api.Ok(ExecutionViews.Detail(run))
            : Api.NotFound("The execution was not found.");
}
