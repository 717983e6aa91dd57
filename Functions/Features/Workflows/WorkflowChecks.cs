using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Workflows;

/// <summary>The checks a workflow's editable fields pass before they are saved.</summary>
internal static class WorkflowChecks
{
    public static Validator CheckDefinition(this Validator check, DefinitionValidator validator, WorkflowDefinition? definition)
    {
        foreach (var problem in validator.Validate(definition))
        {
            check.Add(problem.Field, problem.NodeId is null ? problem.Message : $"Node {problem.NodeId}: {problem.Message}");
        }

        return check;
    }

    public static Validator CheckInputsSchema(this Validator check, JsonObject? schema)
    {
        foreach (var error in InputsSchema.CheckSchema(schema))
        {
            check.Add(error.Field, error.Message);
        }

        return check;
    }

    public static Validator CheckStatus(this Validator check, string? status) =>
        check.When(status is not null && !WorkflowStatus.IsValid(status), "status", "status must be ACTIVE, PAUSED or ARCHIVED.");
}
