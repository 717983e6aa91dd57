using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Workflows;

internal static class CreateWorkflow
{
    internal sealed record Request(string? Name, string? Description, string? Status, bool? IsTemplate, WorkflowDefinition? Definition, JsonObject? InputsSchema,
        decimal? MinutesSavedPerRun = null);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, WorkflowStore workflows, DefinitionValidator validator, CancellationToken cancellationToken)
    {
        var (workflow, error) = await CreateAsync(request, caller, workspace, workflows, validator, cancellationToken);
        return error ?? Api.Created(WorkflowDto.From(workflow!), $"/api/v1/workflows/{workflow!.Id}");
    }

    /// <summary>Checks and stores a new workflow: the one place workflows are created, whatever shape the request came in.</summary>
    public static async Task<(WorkflowRecord? Workflow, IResult? Error)> CreateAsync(
        Request request, Caller caller, WorkspaceContext workspace, WorkflowStore workflows, DefinitionValidator validator, CancellationToken cancellationToken)
    {
        var (definition, check) = Check(request, validator);
        if (!check.IsValid)
        {
            return (null, check.ToResult());
        }

        var workflow = await workflows.CreateAsync(workspace.WorkspaceId, request.Name!.Trim(), request.Description, request.Status ?? WorkflowStatus.Active,
            request.IsTemplate ?? false, definition, request.InputsSchema, null, caller.UserId, cancellationToken, request.MinutesSavedPerRun);
        return (workflow, null);
    }

    /// <summary>The checks a new workflow passes (also what a proposed graph is held to before a client may save it), and the definition it would be stored with.</summary>
    public static (WorkflowDefinition Definition, Validator Check) Check(Request request, DefinitionValidator validator)
    {
        var definition = request.Definition is { } given ? WorkflowChecks.Normalized(given) : WorkflowStore.DefaultDefinition;
        var check = new Validator()
            .Require("name", request.Name, 200)
            .MaxLength("description", request.Description, 2000)
            .CheckMinutesSaved(request.MinutesSavedPerRun)
            .CheckStatus(request.Status)
            .CheckDefinition(validator, definition)
            .CheckActivation(validator, request.Status, definition)
            .CheckInputsSchema(request.InputsSchema);
        return (definition, check);
    }
}
