using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Apps;

/// <summary>
/// Creating an app — new, cloned or imported — is one flow: check it, create its workflow when it is a workflow
/// app, then the app itself.
/// </summary>
internal sealed class AppFactory(AppStore apps, WorkflowStore workflows, DefinitionValidator validator)
{
    public async Task<(AppRecord? App, IResult? Error)> CreateAsync(
        string workspaceId, string userId, string? name, string? description, string? type, string? status, AppConfig? config,
        IReadOnlyList<string>? tags, WorkflowBundle? workflow, CancellationToken cancellationToken)
    {
        type ??= AppTypes.Chatbot;
        var check = new Validator()
            .Require("name", name, 200)
            .MaxLength("description", description, 2000)
            .When(!AppTypes.IsValid(type), "type", "type must be workflow, chatbot or agent.")
            .When(status is not null && !AppStatus.IsValid(status), "status", "status must be draft or published.")
            .When(workflow is not null && type != AppTypes.Workflow, "workflow", "Only a workflow app has a workflow.")
            .CheckConfig(config)
            .CheckTags(tags);
        var definition = workflow?.Definition ?? WorkflowStore.DefaultDefinition;
        if (type == AppTypes.Workflow)
        {
            check.CheckDefinition(validator, definition).CheckInputsSchema(workflow?.InputsSchema);
        }

        if (!check.IsValid)
        {
            return (null, check.ToResult());
        }

        var appId = apps.NewId();
        string? workflowId = null;
        if (type == AppTypes.Workflow)
        {
            var created = await workflows.CreateAsync(workspaceId, workflow?.Name ?? name!.Trim(), workflow?.Description, WorkflowStatus.Active, false,
                definition, workflow?.InputsSchema, appId, userId, cancellationToken);
            workflowId = created.Id;
        }

        var app = await apps.CreateAsync(new AppRecord(appId, workspaceId, name!.Trim(), description, type, status ?? AppStatus.Draft,
            config ?? new AppConfig(null, null, null, null, null), workflowId, tags ?? [], userId, default, default), cancellationToken);
        return (app, null);
    }
}
