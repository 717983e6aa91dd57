using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Workflows;

/// <summary>The checks a workflow's editable fields pass before they are saved.</summary>
internal static class WorkflowChecks
{
    /// <summary>
    /// A definition without nodes or edges is a draft an editor saves before building the graph (FlowAtGenAI creates
    /// workflows so); it is stored as is and checked when it runs.
    /// </summary>
    public static bool IsEmptyDraft(WorkflowDefinition definition) => definition.Nodes is null or { Count: 0 } && definition.Edges is null or { Count: 0 };

    /// <summary>The definition a draft is stored with: empty lists rather than absent ones.</summary>
    public static WorkflowDefinition Normalized(WorkflowDefinition definition) =>
        definition with { Nodes = definition.Nodes ?? [], Edges = definition.Edges ?? [] };

    public static Validator CheckDefinition(this Validator check, DefinitionValidator validator, WorkflowDefinition? definition)
    {
        return definition is not null && IsEmptyDraft(definition) ? check : check.CheckDefinitionToRun(validator, definition);
    }

    /// <summary>Asking for ACTIVE is asking to run it: the definition must then be runnable, empty drafts included.</summary>
    public static Validator CheckActivation(this Validator check, DefinitionValidator validator, string? status, WorkflowDefinition definition) =>
        string.Equals(status, WorkflowStatus.Active, StringComparison.OrdinalIgnoreCase) && IsEmptyDraft(definition)
            ? check.CheckDefinitionToRun(validator, definition)
            : check;

    public static Validator CheckDefinitionToRun(this Validator check, DefinitionValidator validator, WorkflowDefinition? definition)
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

    public static Validator CheckMinutesSaved(this Validator check, decimal? minutesSavedPerRun) =>
        check.When(minutesSavedPerRun is < 0 or > 100_000, "minutesSavedPerRun",
            "minutesSavedPerRun must be between 0 and 100000 (minutes a successful run saves; the dashboard's savings_estimate sums them).");
}
