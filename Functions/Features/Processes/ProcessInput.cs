using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Scheduling;

namespace Serverless.Functions.Features.Processes;

/// <summary>A process's fields as a create or an update leaves them (an update starts from the stored process).</summary>
internal sealed record ProcessDraft(
    string Name, string Description, string TriggerType, string? Schedule, string Timezone, EventMatch? Event, ProcessAction Action, bool IsActive)
{
    public static ProcessDraft Empty { get; } = new("", "", "", null, "UTC", null, new ProcessAction("", []), true);

    public static ProcessDraft Of(ProcessRecord p) => new(p.Name, p.Description, p.TriggerType, p.Schedule, p.Timezone, p.Event, p.Action, p.IsActive);

    /// <summary>When a time-based process fires next (after <paramref name="now"/>); null for the others, and while inactive.</summary>
    public DateTimeOffset? NextRunAfter(DateTimeOffset now) =>
        TriggerType == ProcessTriggers.TimeBased && IsActive && CronSchedule.Parse(Schedule) is { } cron && CronSchedule.FindZone(Timezone) is { } zone
            ? cron.NextAfter(now, zone)
            : null;
}

/// <summary>
/// Reads a process from JSON in Behflow's snake_case (<c>trigger_type</c>, <c>is_active</c>; the action's
/// <c>workflowId</c> may also be written <c>workflow_id</c>). Fields left out keep what <paramref name="start"/> holds,
/// then the whole is checked, so an update that makes a process time-based must bring its schedule.
/// </summary>
internal static class ProcessInput
{
    public const int MaxFilterFields = 20;

    public static ProcessDraft Read(JsonObject body, ProcessDraft start, bool creating, DateTimeOffset now, Validator check)
    {
        var name = Text(body, "name", 200, check)?.Trim() ?? start.Name;
        var description = Text(body, "description", 10_000, check) ?? start.Description;
        var triggerType = Text(body, "trigger_type", 20, check) ?? start.TriggerType;
        var schedule = body.ContainsKey("schedule") ? Text(body, "schedule", 200, check) : start.Schedule;
        var timezone = Text(body, "timezone", 100, check) ?? start.Timezone;
        var isActive = check.Flag(body, "is_active") ?? start.IsActive;
        var match = body.ContainsKey("event") ? Event(body["event"], check) : start.Event;
        var action = body.ContainsKey("action") ? Action(body["action"], check) : start.Action;

        check.When(string.IsNullOrWhiteSpace(name), "name", "name is required.")
            .When(!ProcessTriggers.All.Contains(triggerType), "trigger_type", $"trigger_type must be one of {string.Join(", ", ProcessTriggers.All)}.")
            .When(creating && !body.ContainsKey("action"), "action", "action is required: {workflowId, inputs}.")
            .When(CronSchedule.FindZone(timezone) is null, "timezone", "timezone must be an IANA time zone such as Europe/Berlin.");
        if (triggerType == ProcessTriggers.TimeBased)
        {
            var cron = CronSchedule.Parse(schedule);
            check.When(cron is null, "schedule", "A time_based process needs schedule: a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first).");
            if (cron is not null && CronSchedule.FindZone(timezone) is { } zone)
            {
                check.When(cron.NextAfter(now, zone) is null, "schedule", "The schedule never fires.");
                schedule = cron.Expression;
            }
        }
        else
        {
            schedule = null;
        }

        if (triggerType == ProcessTriggers.EventBased)
        {
            check.When(match is null && !check.Errors.Any(e => e.Field.StartsWith("event", StringComparison.Ordinal)), "event",
                "An event_based process needs event: {name, filter?}.");
        }
        else
        {
            match = null;
        }

        return new ProcessDraft(name, description, triggerType, schedule, timezone, match, action, isActive);
    }

    private static EventMatch? Event(JsonNode? node, Validator check)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not JsonObject spec)
        {
            check.Add("event", "event must be an object {name, filter?}.");
            return null;
        }

        var name = Text(spec, "name", 100, check, "event.");
        check.When(string.IsNullOrWhiteSpace(name), "event.name", "event.name is required (a platform event type such as dataset.completed).");
        JsonObject? filter = null;
        switch (spec["filter"])
        {
            case null:
                break;
            case JsonObject given when given.Count <= MaxFilterFields && given.All(f => f.Key.Length is > 0 and <= 200):
                filter = given.DeepClone().AsObject();
                break;
            default:
                check.Add("event.filter", $"event.filter must be an object of at most {MaxFilterFields} fields: {{field: value}}, a field being a dotted path into the event's data.");
                break;
        }

        return string.IsNullOrWhiteSpace(name) ? null : new EventMatch(name.Trim(), filter);
    }

    private static ProcessAction Action(JsonNode? node, Validator check)
    {
        if (node is not JsonObject spec)
        {
            check.Add("action", "action must be an object {workflowId, inputs}.");
            return ProcessDraft.Empty.Action;
        }

        var field = spec.ContainsKey("workflow_id") && !spec.ContainsKey("workflowId") ? "workflow_id" : "workflowId";
        var workflowId = Text(spec, field, 100, check, "action.");
        check.When(string.IsNullOrWhiteSpace(workflowId), "action.workflowId", "action.workflowId is required.");
        var inputs = check.ObjectOrEmpty(spec["inputs"], "action.inputs");
        return new ProcessAction(workflowId ?? "", inputs);
    }

    private static string? Text(JsonObject body, string field, int maxLength, Validator check, string prefix = "")
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            check.Add(prefix + field, $"{prefix + field} must be a string.");
            return null;
        }

        var text = node.GetValue<string>();
        check.MaxLength(prefix + field, text, maxLength);
        return text;
    }
}
