using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

/// <summary>Runs as a workspace may see them: a run of another workspace does not exist for it.</summary>
internal static class Executions
{
    public static async Task<ExecutionDocument?> FindAsync(WorkflowRuns runs, WorkspaceContext workspace, string executionId, CancellationToken cancellationToken) =>
        (await runs.Store.LoadAsync(executionId, cancellationToken))?.Document is { } run && run.WorkspaceId == workspace.WorkspaceId ? run : null;
}
