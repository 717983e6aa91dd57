using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Workflows;

internal static class UpdateWorkflow
{
    /// <summary>Any subset of the fields; <c>status</c> alone moves the lifecycle. A new definition or inputs schema makes a new version.</summary>
    internal sealed record Request(string? Name, string? Description, string? Status, bool? IsTemplate, WorkflowDefinition? Definition, JsonObject? InputsSchema,
        decimal? MinutesSavedPerRun = null);

    public static async Task<IResult> HandleAsync(
        string id, Request request, Caller caller, WorkspaceContext workspace, WorkflowStore workflows, DefinitionValidator validator, CancellationToken cancellationToken)
    {
        var (workflow, error) = await UpdateAsync(id, request, caller, workspace, workflows, validator, cancellationToken);
        return error ?? Api.Ok(WorkflowDto.From(workflow!));
    }

    /// <summary>Checks and saves a change: the one place workflows change, whatever shape the request came in.</summary>
    public static async Task<(WorkflowRecord? Workflow, IResult? Error)> UpdateAsync(
        string id, Request request, Caller caller, WorkspaceContext workspace, WorkflowStore workflows, DefinitionValidator validator, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(request.Name is not null && string.IsNullOrWhiteSpace(request.Name), "name", "name cannot be empty.")
            .MaxLength("name", request.Name, 200)
            .MaxLength("description", request.Description, 2000)
            .CheckMinutesSaved(request.MinutesSavedPerRun)
            .CheckStatus(request.Status)
            .CheckInputsSchema(request.InputsSchema);
        if (request.Definition is not null)
        {
            check.CheckDefinition(validator, request.Definition);
        }

        if (!check.IsValid)
        {
            return (null, check.ToResult());
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await workflows.GetAsync(workspace.WorkspaceId, id, cancellationToken);
            if (current is null)
            {
                return (null, Api.NotFound("The workflow was not found."));
            }

            var workflow = current.Value;
            var onlyStatus = request is { Name: null, Description: null, IsTemplate: null, Definition: null, InputsSchema: null, MinutesSavedPerRun: null };
            if (workflow.Status == WorkflowStatus.Archived && !onlyStatus)
            {
                return (null, Api.Conflict("The workflow is archived and read-only; set its status to ACTIVE or PAUSED first."));
            }

            var newVersion = request.Definition is not null || request.InputsSchema is not null;
            var updated = workflow with
            {
                Name = request.Name?.Trim() ?? workflow.Name,
                Description = request.Description ?? workflow.Description,
                Status = request.Status ?? workflow.Status,
                IsTemplate = request.IsTemplate ?? workflow.IsTemplate,
                MinutesSavedPerRun = request.MinutesSavedPerRun ?? workflow.MinutesSavedPerRun,
                Definition = request.Definition is { } given ? WorkflowChecks.Normalized(given) : workflow.Definition,
                InputsSchema = request.InputsSchema ?? workflow.InputsSchema,
            };
            if (new Validator().CheckActivation(validator, request.Status, updated.Definition) is { IsValid: false } inactive)
            {
                return (null, inactive.ToResult());
            }

            if (await workflows.SaveAsync(current, updated, newVersion, caller.UserId, cancellationToken) is { } saved)
            {
                return (saved, null);
            }
        }

        return (null, Api.Conflict("The workflow changed while it was being updated; try again."));
    }
}
