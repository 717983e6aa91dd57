using System.Text.Json.Serialization;

namespace Serverless.Functions.Features.Processes;

/// <summary>A process as Behflow shows it (snake_case), with our <c>event</c>, <c>action</c> and <c>next_run</c>.</summary>
internal sealed record ProcessDto(
    [property: JsonPropertyName("process_id")] string ProcessId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("trigger_type")] string TriggerType,
    [property: JsonPropertyName("schedule")] string? Schedule,
    [property: JsonPropertyName("timezone")] string Timezone,
    [property: JsonPropertyName("event")] EventMatch? Event,
    [property: JsonPropertyName("action")] ProcessAction Action,
    [property: JsonPropertyName("is_active")] bool IsActive,
    [property: JsonPropertyName("last_execution")] DateTimeOffset? LastExecution,
    [property: JsonPropertyName("last_execution_id")] string? LastExecutionId,
    [property: JsonPropertyName("next_run")] DateTimeOffset? NextRun,
    [property: JsonPropertyName("created_by")] string CreatedBy,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt)
{
    public static ProcessDto From(ProcessRecord p) => new(p.Id, p.Name, p.Description, p.TriggerType, p.Schedule, p.Timezone, p.Event, p.Action,
        p.IsActive, p.LastExecution, p.LastExecutionId, p.NextRun, p.CreatedBy, p.CreatedAt, p.UpdatedAt);
}

/// <summary>
/// One execution as Behflow shows it. <c>execution_id</c> is the workflow run's id (GET /api/v1/executions/{id}) when a
/// run started; <c>source</c> says what started it (manual, schedule, event).
/// </summary>
internal sealed record ProcessExecutionDto(
    [property: JsonPropertyName("execution_id")] string ExecutionId,
    [property: JsonPropertyName("process_id")] string ProcessId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("started_at")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("completed_at")] DateTimeOffset? CompletedAt,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("event_id")] string? EventId,
    [property: JsonPropertyName("slot")] DateTimeOffset? Slot)
{
    public static ProcessExecutionDto From(ProcessExecutionRecord e) =>
        new(e.Id, e.ProcessId, e.Status, e.Message, e.StartedAt, e.CompletedAt, e.Source, e.EventId, e.Slot);
}
