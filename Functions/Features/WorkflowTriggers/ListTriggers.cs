using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.WorkflowTriggers;

internal static class ListTriggers
{
    /// <summary>A workflow's triggers, oldest first; at most <see cref="TriggerStore.MaxPerWorkflow"/>, so the list is one page.</summary>
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, WorkflowStore workflows, TriggerStore triggers, CancellationToken cancellationToken)
    {
        if (!StoreKeys.IsValidKey(id) || await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The workflow was not found.");
        }

        var list = await triggers.ListAsync(workspace.WorkspaceId, id, cancellationToken);
        return Api.Ok<IReadOnlyList<TriggerDto>>([.. list.Select(t => TriggerDto.From(t))]);
    }
}
