using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Library;

/// <summary>What reading, changing and deleting a library item (agent or preset) have in common.</summary>
internal static class LibraryItems
{
    public static async Task<IResult> GetAsync<T, TDto>(IndexedTable<T> table, string workspaceId, string id, Func<T, TDto> view, string what, CancellationToken cancellationToken)
        where T : class =>
        await table.GetAsync(workspaceId, id, cancellationToken) is { } item ? Api.Ok(view(item.Value)) : Api.NotFound($"The {what} was not found.");

    public static async Task<IResult> DeleteAsync<T>(IndexedTable<T> table, string workspaceId, string id, string what, CancellationToken cancellationToken)
        where T : class =>
        (await table.DeleteAsync(workspaceId, id, null, cancellationToken)).Succeeded ? Api.NoContent() : Api.NotFound($"The {what} was not found.");

    /// <summary>A page of the list, or the 422 its query (or cursor) earns.</summary>
    public static async Task<IResult> ListAsync<T, TDto>(
        IndexedList<T> list, string workspaceId, ListQuery query, ListRequest<T>? request, Func<T, TDto> view, CancellationToken cancellationToken)
        where T : class
    {
        if (query.Check(list.SortFields) is { } invalid)
        {
            return invalid;
        }

        return await IndexedPaging.PageAsync(list, workspaceId, query, request, cancellationToken) is { } page
            ? Api.Page(page.Map(view))
            : IndexedPaging.InvalidCursor();
    }

    /// <summary>Checks the common fields, that a newly pinned version exists, then applies <paramref name="change"/>.</summary>
    public static async Task<IResult> UpdateAsync<T, TDto>(
        IndexedTable<T> table, WorkflowStore workflows, string workspaceId, string id, string? name, string? description, int? workflowVersion,
        Func<T, string> workflowOf, Func<T, T> change, Func<T, TDto> view, string what, CancellationToken cancellationToken)
        where T : class
    {
        var check = new Validator()
            .When(name is not null && string.IsNullOrWhiteSpace(name), "name", "name cannot be empty.")
            .MaxLength("name", name, 200).MaxLength("description", description, 2000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await table.GetAsync(workspaceId, id, cancellationToken) is not { } current)
        {
            return Api.NotFound($"The {what} was not found.");
        }

        if (workflowVersion is { } version
            && await LibraryChecks.WorkflowProblemAsync(workflows, workspaceId, workflowOf(current.Value), version, cancellationToken) is { } problem)
        {
            return problem;
        }

        var updated = await table.UpdateAsync(workspaceId, id, change, cancellationToken);
        return updated is null ? Api.NotFound($"The {what} was not found.") : Api.Ok(view(updated.Value));
    }
}
