using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Tasks;

internal sealed class AssistantOptions
{
    public const string Section = "Assistant";

    /// <summary>The model id the task assistant calls through the gateway (a request may name another).</summary>
    [Required]
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>Model round trips allowed in one turn (each may run several tool calls).</summary>
    [Range(1, 20)]
    public int MaxToolRounds { get; set; } = 5;

    /// <summary>Messages of a session kept as history for the next turn.</summary>
    [Range(2, 500)]
    public int HistoryMessages { get; set; } = 40;
}
