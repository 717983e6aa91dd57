using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Graphs;

internal static class ListGraphs
{
    /// <summary><c>GET /api/v1/graphs</c>: the workflows in AutoGPT's graph shape, paged like <c>GET /api/v1/workflows</c>.</summary>
    public static async Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var (page, error) = await ListWorkflows.PageAsync(workspace, query, workflows, cancellationToken);
        return error ?? Api.Page(page!.Map(GraphDto.From));
    }

    /// <summary>AutoGPT's external <c>GET /v1/graphs</c>: one page (<c>limit</c>, <c>cursor</c> or <c>page</c>) as a bare list, newest first.</summary>
    public static async Task<IResult> HandleExternalAsync(WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var (page, error) = await ListWorkflows.PageAsync(workspace, query, workflows, cancellationToken);
        return error ?? Results.Json(page!.Items.Select(GraphDto.From).ToList());
    }
}
