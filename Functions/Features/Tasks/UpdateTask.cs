using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

internal static class UpdateTask
{
    /// <summary>Any subset of the fields; <c>"dueDate": null</c> removes the due date.</summary>
    internal sealed record Request(string? Name, string? Description, string? Status, string? Priority, DateTimeOffset? DueDate, IReadOnlyList<string>? Tags);

    public static async Task<IResult> HandleAsync(string id, JsonObject? body, WorkspaceContext workspace, TaskBoard board, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        var check = new Validator();
        var changes = TaskInput.Read(body, creating: false, check);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var task = await board.UpdateAsync(workspace.WorkspaceId, id, changes, cancellationToken);
        return task is null ? Api.NotFound("The task was not found.") : Api.Ok(TaskDto.From(task));
    }
}
