using Microsoft.Extensions.Options;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

internal static class StreamExecutionEvents
{
    public static async Task<IResult> HandleAsync(
        string id, HttpRequest request, WorkspaceContext workspace, WorkflowRuns runs, IOptions<WorkflowsOptions> options, CancellationToken cancellationToken) =>
        await Executions.FindAsync(runs, workspace, id, cancellationToken) is null
            ? Api.NotFound("The execution was not found.")
            : new ExecutionEventStream(id, ExecutionEventStream.ResumeFrom(request), TimeSpan.FromSeconds(options.Value.HeartbeatSeconds));
}
