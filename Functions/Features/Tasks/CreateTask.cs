using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

internal static class CreateTask
{
    /// <summary>The body's shape, for the API description (the handler reads the JSON itself, see <see cref="TaskInput"/>).</summary>
    internal sealed record Request(string Name, string? Description, string? Status, string? Priority, DateTimeOffset? DueDate, IReadOnlyList<string>? Tags);

    public static async Task<IResult> HandleAsync(JsonObject? body, Caller caller, WorkspaceContext workspace, TaskBoard board, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        var check = new Validator();
        var changes = TaskInput.Read(body, creating: true, check);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var task = await board.CreateAsync(workspace.WorkspaceId, caller.UserId, changes, cancellationToken);
        return Api.Created(TaskDto.From(task), $"/api/v1/tasks/{task.Id}");
    }
}
