using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Tasks;

/// <summary>Who the assistant acts for in one turn.</summary>
internal sealed record AssistantTurn(string WorkspaceId, Caller Caller);

/// <summary>
/// More tools for the task assistant, offered by other features (e.g. processes). A set answers only the tool names it
/// defines; the model reads back the JSON it returns.
/// </summary>
internal interface IAssistantToolSet
{
    IEnumerable<JsonObject> Definitions();

    /// <summary>The result for the model, or null when <paramref name="name"/> is not one of this set's tools.</summary>
    Task<string?> TryRunAsync(string name, JsonObject arguments, AssistantTurn turn, CancellationToken cancellationToken);
}

/// <summary>The tools the task assistant offers the model, and what running each one does to the workspace's tasks.</summary>
internal sealed class AssistantTools(TaskBoard board, AssistantTurn turn, IEnumerable<IAssistantToolSet> more)
{
    private readonly string _workspaceId = turn.WorkspaceId;
    private readonly string _userId = turn.Caller.UserId;

        /// <summary>Tasks created or changed in this turn, latest state, in the order first touched.</summary>
    public Dictionary<string, TaskRecord> Touched { get; } = new(StringComparer.Ordinal);

    /// <summary>The task tools and every other feature's.</summary>
    public JsonArray Definitions() => [.. TaskDefinitions().Concat(more.SelectMany(set => set.Definitions())).Select(JsonNode? (tool) => tool)];

    private static JsonObject[] TaskDefinitions() =>
    [
        AgentTools.Tool("create_task", "Create a task.", new JsonObject
        {
            ["name"] = AgentTools.Str("Short title of the task."),
            ["description"] = AgentTools.Str("Details."),
            ["priority"] = Enum(TaskValues.Priorities),
            ["due_date"] = AgentTools.Str("ISO 8601 date or time."),
            ["tags"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } },
        }, "name"),
        AgentTools.Tool("update_task", "Change fields of an existing task.", new JsonObject
        {
            ["task_id"] = AgentTools.Str("The task's id."),
            ["name"] = AgentTools.Str("New title."),
            ["description"] = AgentTools.Str("New details."),
            ["status"] = Enum(TaskValues.Statuses),
            ["priority"] = Enum(TaskValues.Priorities),
            ["due_date"] = AgentTools.Str("ISO 8601 date or time."),
            ["tags"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } },
        }, "task_id"),
        AgentTools.Tool("list_tasks", "List the workspace's tasks, optionally filtered.", new JsonObject
        {
            ["status"] = Enum(TaskValues.Statuses),
            ["priority"] = Enum(TaskValues.Priorities),
            ["tag"] = AgentTools.Str("Only tasks with this tag."),
        }),
        AgentTools.Tool("complete_task", "Mark a task as completed.", new JsonObject { ["task_id"] = AgentTools.Str("The task's id.") }, "task_id"),
    ];

    /// <summary>Runs one tool call and returns what the model reads back (JSON): the task(s), or why it failed.</summary>
    public async Task<string> RunAsync(string name, JsonObject args, CancellationToken cancellationToken)
    {
        switch (name)
        {
            case "create_task":
            {
                var check = new Validator();
                var changes = TaskInput.Read(args, creating: true, check);
                if (!check.IsValid)
                {
                    return AgentTools.Error(string.Join(" ", check.Errors.Select(e => e.Message)));
                }

                return Done(await board.CreateAsync(_workspaceId, _userId, changes, cancellationToken));
            }

            case "update_task":
            case "complete_task":
            {
                var id = args["task_id"]?.ToString() ?? args["id"]?.ToString();
                if (string.IsNullOrEmpty(id))
                {
                    return AgentTools.Error("task_id is required.");
                }

                var check = new Validator();
                var changes = name == "complete_task"
                    ? new TaskChanges(null, null, TaskValues.Completed, null, null, false, null)
                    : TaskInput.Read(args, creating: false, check);
                if (!check.IsValid)
                {
                    return AgentTools.Error(string.Join(" ", check.Errors.Select(e => e.Message)));
                }

                var task = await board.UpdateAsync(_workspaceId, id, changes, cancellationToken);
                return task is null ? AgentTools.Error($"No task has the id '{id}'.") : Done(task);
            }

            case "list_tasks":
            {
                var status = args["status"]?.ToString();
                var priority = args["priority"]?.ToString();
                var tag = args["tag"]?.ToString();
                var filters = new List<(string, string)>();
                if (status is not null)
                {
                    filters.Add(("status", status));
                }

                if (priority is not null)
                {
                    filters.Add(("priority", priority));
                }

                var page = await IndexedPaging.PageAsync(
                    board.List, _workspaceId, ListQuery.Default with { Limit = 100, SortBy = "createdAt" },
                    new ListRequest<TaskRecord> { Filters = filters, Where = t => tag is null || t.Tags.Contains(tag) }, cancellationToken);
                var tasks = page!.Items.Select(TaskDto.From);
                return AgentTools.Answer(new { ok = true, tasks });
            }

            default:
                foreach (var set in more)
                {
                    if (await set.TryRunAsync(name, args, turn, cancellationToken) is { } result)
                    {
                        return result;
                    }
                }

                return AgentTools.Error($"There is no tool named '{name}'.");
        }
    }

    private string Done(TaskRecord task)
    {
        Touched[task.Id] = task;
        return AgentTools.Answer(new { ok = true, task = TaskDto.From(task) });
    }

    private static JsonObject Enum(string[] values) => new() { ["type"] = "string", ["enum"] = new JsonArray([.. values.Select(v => (JsonNode)v)]) };
}
