using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

/// <summary>Starts runs of a workspace's workflows; the one place that decides whether a workflow may run.</summary>
internal sealed class WorkflowRunner(WorkflowStore workflows, WorkflowRuns runs, DefinitionValidator validator, IUserStatus users)
{
    /// <summary>The started run, or the error result explaining why it was not started.</summary>
    public async Task<(ExecutionDocument? Run, IResult? Error)> StartAsync(
        string workspaceId, string workflowId, int? version, JsonObject inputs, JsonObject? metadata, RunPrincipal? principal, CancellationToken cancellationToken)
    {
        if (await workflows.GetAsync(workspaceId, workflowId, cancellationToken) is not { } stored)
        {
            return (null, Api.NotFound("The workflow was not found."));
        }

        // A request of a disabled user never gets here (authentication refuses it); what still can is what acts for them
        // without a request of theirs: schedules, hooks, processes and plugins. A disabled user's automation stops too.
        if (principal?.UserId is { } userId && await users.IsDisabledAsync(userId, cancellationToken))
        {
            return (null, Api.Forbidden("The account this run would act for is disabled."));
        }

        var workflow = stored.Value;
        if (workflow.Status != WorkflowStatus.Active)
        {
            return (null, Api.Conflict($"The workflow is {workflow.Status}; only ACTIVE workflows run."));
        }

        var (definition, schema, pinned) = (workflow.Definition, workflow.InputsSchema, workflow.Version);
        if (version is { } v && v != workflow.Version)
        {
            if (await workflows.GetVersionAsync(workflowId, v, cancellationToken) is not { } old)
            {
                return (null, Api.NotFound($"Version {v} of the workflow was not found."));
            }

            (definition, schema, pinned) = (old.Definition, old.InputsSchema, old.Version);
        }

        // Drafts are saved unchecked (an editor stores a graph it is still building), so a run checks what it runs.
        if (new Validator().CheckDefinitionToRun(validator, definition) is { IsValid: false } invalid)
        {
            return (null, Api.Validation(invalid.Errors, "The workflow's definition cannot run yet; fix it and try again."));
        }

        if (InputsSchema.CheckInputs(schema, inputs) is { Count: > 0 } problems)
        {
            return (null, Api.Validation(problems, "The inputs do not match the workflow's inputs schema."));
        }

        var started = await runs.StartAsync(new StartRunRequest(workspaceId, workflowId, pinned, definition, inputs, metadata, principal), cancellationToken);
        return started.Refused
            ? (null, Api.Error(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimitExceeded, "Too many runs are waiting in this workspace; try again when some have finished."))
            : (started.Run, null);
    }
}

/// <summary>The caller a run acts for: its user and API key, with the key's model limits as they are now.</summary>
internal static class RunPrincipals
{
    public static RunPrincipal Of(Caller caller) =>
        new(caller.UserId, caller.ApiKeyId, caller.ModelLimits is { } limits ? JsonSerializer.SerializeToNode(limits, JsonSerializerOptions.Web)!.AsObject() : null);
}
