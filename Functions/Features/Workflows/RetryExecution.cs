using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class RetryExecution
{
    public static async Task<IResult> HandleAsync(string id, Caller caller, WorkspaceContext workspace, WorkflowRuns runs, CancellationToken cancellationToken)
    {
        if (await Executions.FindAsync(runs, workspace, id, cancellationToken) is null)
        {
            return Api.NotFound("The execution was not found.");
        }

        return await runs.RetryAsync(id, RunPrincipals.Of(caller), cancellationToken) switch
        {
            RunActionOutcome.Done => Api.Accepted(ExecutionViews.Summary((await runs.Store.LoadAsync(id, cancellationToken))!.Document)),
            RunActionOutcome.NotFound => Api.NotFound("The execution was not found."),
            _ => Api.Conflict("Only a failed, cancelled or timed-out execution can be retried."),
        };
    }
}
