using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Tasks;

internal static class TaskValues
{
    public const string NotStarted = "not_started";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Blocked = "blocked";
    public const string Medium = "medium";

    public static readonly string[] Statuses = [NotStarted, InProgress, Completed, Blocked];
    public static readonly string[] Priorities = ["low", Medium, "high", "urgent"];

    public static int Rank(string priority) => Array.IndexOf(Priorities, priority);
}

/// <summary>The fields a create or an update sets; null leaves a field as it is (<see cref="ClearDueDate"/> removes the due date).</summary>
internal sealed record TaskChanges(string? Name, string? Description, string? Status, string? Priority, DateTimeOffset? DueDate, bool ClearDueDate, IReadOnlyList<string>? Tags);

/// <summary>
/// Reads a task's fields from JSON: the API's bodies (camelCase) and the assistant's tool arguments (snake_case, as
/// Behflow names them) alike. Reading the JSON object itself, rather than binding a record, is what lets an update
/// tell "dueDate": null (clear it) from no dueDate at all (keep it).
/// </summary>
internal static class TaskInput
{
    public const int MaxTags = 20;

    public static TaskChanges Read(JsonObject body, bool creating, Validator check)
    {
        var name = Text(body, check, "name", 200);
        var description = Text(body, check, "description", 10_000);
        var status = Text(body, check, "status", 20);
        var priority = Text(body, check, "priority", 20);
        if (creating || body.ContainsKey("name"))
        {
            check.When(string.IsNullOrWhiteSpace(name), "name", "name is required.");
        }

        check.When(status is not null && !TaskValues.Statuses.Contains(status), "status", $"status must be one of {string.Join(", ", TaskValues.Statuses)}.")
            .When(priority is not null && !TaskValues.Priorities.Contains(priority), "priority", $"priority must be one of {string.Join(", ", TaskValues.Priorities)}.");

        var (dueDate, clearDueDate) = DueDate(body, check);
        IReadOnlyList<string>? tags = null;
        if (body["tags"] is { } tagsNode)
        {
            if (tagsNode is JsonArray array && array.All(t => t is JsonValue v && v.TryGetValue(out string? s) && !string.IsNullOrWhiteSpace(s) && s.Length <= 50))
            {
                tags = [.. array.Select(t => t!.GetValue<string>().Trim()).Distinct(StringComparer.Ordinal)];
                check.When(tags.Count > MaxTags, "tags", $"At most {MaxTags} tags.");
            }
            else
            {
                check.Add("tags", "tags must be an array of non-empty strings of at most 50 characters.");
            }
        }

        return new TaskChanges(name?.Trim(), description, status, priority, dueDate, clearDueDate, tags);
    }

    public static DateTimeOffset? ParseDate(string? raw) =>
        DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    private static (DateTimeOffset? DueDate, bool Clear) DueDate(JsonObject body, Validator check)
    {
        var key = body.ContainsKey("dueDate") ? "dueDate" : body.ContainsKey("due_date") ? "due_date" : null;
        if (key is null)
        {
            return (null, false);
        }

        if (body[key] is null)
        {
            return (null, true);
        }

        if (body[key] is JsonValue value && value.TryGetValue(out string? raw) && ParseDate(raw) is { } at)
        {
            return (at, false);
        }

        check.Add("dueDate", "dueDate must be an ISO 8601 date or time, or null.");
        return (null, false);
    }

    private static string? Text(JsonObject body, Validator check, string field, int maxLength)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            var text = value.GetValue<string>();
            check.MaxLength(field, text, maxLength);
            return text;
        }

        check.Add(field, $"{field} must be a string.");
        return null;
    }
}
