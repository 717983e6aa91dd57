using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Processes;

internal static class UpdateProcess
{
    /// <summary>
    /// Any subset of the fields; the result is checked as a whole. A changed schedule, time zone, trigger type or
    /// is_active moves <c>next_run</c> (from now; slots that passed while the process was off do not fire).
    /// </summary>
    public static async Task<IResult> HandleAsync(
        string id, JsonObject? body, WorkspaceContext workspace, ProcessStore processes, WorkflowStore workflows, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        if (await processes.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } current)
        {
            return Api.NotFound("The process was not found.");
        }

        var now = time.GetUtcNow();
        var check = new Validator();
        var draft = ProcessInput.Read(body, ProcessDraft.Of(current), creating: false, now, check);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (draft.Action.WorkflowId != current.Action.WorkflowId
            && await ProcessChecks.WorkflowProblemAsync(workflows, workspace.WorkspaceId, draft.Action.WorkflowId, cancellationToken) is { } problem)
        {
            return problem;
        }

        var updated = await processes.UpdateAsync(workspace.WorkspaceId, id, p =>
        {
            var timing = (p.TriggerType, p.Schedule, p.Timezone, p.IsActive) != (draft.TriggerType, draft.Schedule, draft.Timezone, draft.IsActive);
            return p with
            {
                Name = draft.Name,
                Description = draft.Description,
                TriggerType = draft.TriggerType,
                Schedule = draft.Schedule,
                Timezone = draft.Timezone,
                Event = draft.Event,
                Action = draft.Action,
                IsActive = draft.IsActive,
                NextRun = timing ? draft.NextRunAfter(now) : p.NextRun,
                UpdatedAt = now,
            };
        }, cancellationToken);
        return updated is null ? Api.NotFound("The process was not found.") : Api.Ok(ProcessDto.From(updated));
    }
}
