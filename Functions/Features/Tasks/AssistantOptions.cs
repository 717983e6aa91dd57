using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Tasks;

internal sealed class AssistantOptions
{
    public const string Section = "Assistant";

    /// <summary>
    /// The model id the task assistant calls through the gateway (a request may name another); empty: the model chat
    /// uses when none is named (Chat__DefaultModel, else the workspace's first chat model), so a fresh install with any
    /// provider answers.
    /// </summary>
    public string Model { get; set; } = "";

    /// <summary>Model round trips allowed in one turn (each may run several tool calls).</summary>
    [Range(1, 20)]
    public int MaxToolRounds { get; set; } = 5;

    /// <summary>Messages of a session kept as history for the next turn.</summary>
    [Range(2, 500)]
    public int HistoryMessages { get; set; } = 40;
}
