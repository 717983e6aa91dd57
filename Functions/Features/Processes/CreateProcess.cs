using System.Text.Json.Nodes;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Processes;

internal static class CreateProcess
{
    internal sealed record EventBody(string Name, JsonObject? Filter);

    internal sealed record ActionBody(string WorkflowId, JsonObject? Inputs);

    /// <summary>The body's shape, for the API description (the handler reads the JSON itself, see <see cref="ProcessInput"/>).</summary>
    internal sealed record Request(string Name, string? Description, string TriggerType, string? Schedule, string? Timezone, EventBody? Event, ActionBody Action, bool? IsActive);

    public static async Task<IResult> HandleAsync(
        JsonObject? body, Caller caller, WorkspaceContext workspace, ProcessStore processes, WorkflowStore workflows, TimeProvider time, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        var now = time.GetUtcNow();
        var check = new Validator();
        var draft = ProcessInput.Read(body, ProcessDraft.Empty, creating: true, now, check);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await ProcessChecks.WorkflowProblemAsync(workflows, workspace.WorkspaceId, draft.Action.WorkflowId, cancellationToken) is { } problem)
        {
            return problem;
        }

        if (await processes.CountAsync(workspace.WorkspaceId, cancellationToken) >= ProcessStore.MaxPerWorkspace)
        {
            return Api.Conflict($"A workspace has at most {ProcessStore.MaxPerWorkspace} processes; delete one first.");
        }

        var process = new ProcessRecord(Secrets.NewId("proc"), workspace.WorkspaceId, draft.Name, draft.Description, draft.TriggerType, draft.Schedule,
            draft.Timezone, draft.Event, draft.Action, draft.IsActive, draft.NextRunAfter(now), null, null, caller.UserId, now, now);
        await processes.CreateAsync(process, cancellationToken);
        return Api.Created(ProcessDto.From(process), $"/api/v1/processes/{process.Id}");
    }
}

internal static class ProcessChecks
{
    /// <summary>The 404 for an action naming no workflow of the workspace (as library agents answer), or null.</summary>
    public static async Task<IResult?> WorkflowProblemAsync(WorkflowStore workflows, string workspaceId, string workflowId, CancellationToken cancellationToken) =>
        Orchestrations.Ports.StoreKeys.IsValidKey(workflowId) && await workflows.GetAsync(workspaceId, workflowId, cancellationToken) is not null
            ? null
            : Api.NotFound("The workflow of action.workflowId was not found.");
}
