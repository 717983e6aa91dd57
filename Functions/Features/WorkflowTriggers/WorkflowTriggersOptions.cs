using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.WorkflowTriggers;

internal sealed class WorkflowTriggersOptions
{
    public const string Section = "WorkflowTriggers";

    /// <summary>Calls per minute one webhook trigger accepts; more answer 429 with Retry-After.</summary>
    [Range(1, 1_000_000)]
    public int HookPerMinute { get; set; } = 60;
}
