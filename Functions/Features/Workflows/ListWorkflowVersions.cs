using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Workflows;

internal static class ListWorkflowVersions
{
    private static readonly ListShape<WorkflowVersionDto> Shape = new(
        v => v.Version.ToString("D8", System.Globalization.CultureInfo.InvariantCulture),
        new Dictionary<string, Func<WorkflowVersionDto, string>> { ["version"] = v => v.Version.ToString("D8", System.Globalization.CultureInfo.InvariantCulture) },
        "version",
        DefaultDescending: true);

    public static async Task<IResult> HandleAsync(string id, WorkspaceContext workspace, ListQuery query, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        if (query.Check(Shape.SortFields) is { } invalid)
        {
            return invalid;
        }

        if (await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken) is null)
        {
            return Api.NotFound("The workflow was not found.");
        }

        var versions = (await workflows.ListVersionsAsync(id, cancellationToken))
            .Select(v => new WorkflowVersionDto(v.Version, v.CreatedAt, v.CreatedBy, v.Definition.Nodes.Count, v.Definition, v.InputsSchema));
        return Api.Page(Paging.Paginate(versions, query, Shape));
    }
}
