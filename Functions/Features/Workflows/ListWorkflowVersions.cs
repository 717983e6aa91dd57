using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class ListWorkflowVersions
{
    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var list = workflows.Versions;
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The workflow was not found.");
        }

        return await IndexedPaging.PageAsync(list, id, query, null, cancellationToken) is { } page
            ? Api.Page(page.Map(v => new WorkflowVersionDto(v.Version, v.CreatedAt, v.CreatedBy, v.Definition.Nodes.Count, v.Definition, v.InputsSchema)))
            : IndexedPaging.InvalidCursor();
    }
}
