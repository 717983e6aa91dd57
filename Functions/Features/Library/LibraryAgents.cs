using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Library;

internal sealed record LibraryAgentDto(string Id, string WorkflowId, int? WorkflowVersion, string Name, string? Description, bool IsFavorite, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static LibraryAgentDto From(LibraryAgentRecord a) => new(a.Id, a.WorkflowId, a.WorkflowVersion, a.Name, a.Description, a.IsFavorite, a.CreatedAt, a.UpdatedAt);
}

internal static class ListLibraryAgents
{
    // Any other status matches no agent, as it always did (the value is not validated).
    public static Task<IResult> HandleAsync(WorkspaceContext workspace, ListQuery query, LibraryStore library, CancellationToken cancellationToken) =>
        LibraryItems.ListAsync(library.AgentList, workspace.WorkspaceId, query with { Status = query.Status?.ToLowerInvariant() }, null, LibraryAgentDto.From, cancellationToken);
}

internal static class CreateLibraryAgent
{
    internal sealed record Request(string? WorkflowId, int? WorkflowVersion, string? Name, string? Description, bool? IsFavorite);

    public static async Task<IResult> HandleAsync(
        Request request, WorkspaceContext workspace, LibraryStore library, WorkflowStore workflows, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("workflowId", request.WorkflowId, 100).MaxLength("name", request.Name, 200).MaxLength("description", request.Description, 2000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await LibraryChecks.WorkflowProblemAsync(workflows, workspace.WorkspaceId, request.WorkflowId!, request.WorkflowVersion, cancellationToken) is { } problem)
        {
            return problem;
        }

        var workflow = (await workflows.GetAsync(workspace.WorkspaceId, request.WorkflowId!, cancellationToken))!.Value;
        var now = time.GetUtcNow();
        var agent = new LibraryAgentRecord(LibraryStore.NewAgentId(), workflow.Id, request.WorkflowVersion, request.Name?.Trim() ?? workflow.Name,
            request.Description ?? workflow.Description, request.IsFavorite ?? false, now, now);
        await library.Agents.InsertAsync(workspace.WorkspaceId, agent, cancellationToken);
        return Api.Created(LibraryAgentDto.From(agent), $"/api/v1/library/agents/{agent.Id}");
    }
}

internal static class GetLibraryAgent
{
    public static Task<IResult> HandleAsync(string id, WorkspaceContext workspace, LibraryStore library, CancellationToken cancellationToken) =>
        LibraryItems.GetAsync(library.Agents, workspace.WorkspaceId, id, LibraryAgentDto.From, "library agent", cancellationToken);
}

internal static class UpdateLibraryAgent
{
    internal sealed record Request(string? Name, string? Description, bool? IsFavorite, int? WorkflowVersion);

    public static Task<IResult> HandleAsync(
        string id, Request request, WorkspaceContext workspace, LibraryStore library, WorkflowStore workflows, TimeProvider time, CancellationToken cancellationToken) =>
        LibraryItems.UpdateAsync(library.Agents, workflows, workspace.WorkspaceId, id, request.Name, request.Description, request.WorkflowVersion,
            a => a.WorkflowId,
            a => a with
            {
                Name = request.Name?.Trim() ?? a.Name,
                Description = request.Description ?? a.Description,
                IsFavorite = request.IsFavorite ?? a.IsFavorite,
                WorkflowVersion = request.WorkflowVersion ?? a.WorkflowVersion,
                UpdatedAt = time.GetUtcNow(),
            },
            LibraryAgentDto.From, "library agent", cancellationToken);
}

internal static class DeleteLibraryAgent
{
    public static Task<IResult> HandleAsync(string id, WorkspaceContext workspace, LibraryStore library, CancellationToken cancellationToken) =>
        LibraryItems.DeleteAsync(library.Agents, workspace.WorkspaceId, id, "library agent", cancellationToken);
}

internal static class LibraryChecks
{
    /// <summary>The 404 for a workflow (or version) the workspace does not have, or null when it has it.</summary>
    public static async Task<IResult?> WorkflowProblemAsync(WorkflowStore workflows, string workspaceId, string workflowId, int? version, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(workspaceId, workflowId, cancellationToken) is null)
        {
            return Api.NotFound("The workflow was not found.");
        }

        return version is { } v && await workflows.GetVersionAsync(workflowId, v, cancellationToken) is null
            ? Api.NotFound($"Version {v} of the workflow was not found.")
            : null;
    }
}
