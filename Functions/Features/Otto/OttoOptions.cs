using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Otto;

internal sealed class OttoOptions
{
    public const string Section = "Otto";

    /// <summary>The model Otto calls through the gateway; empty: the model chat uses when none is named (Chat__DefaultModel, else the workspace's first chat model).</summary>
    public string Model { get; set; } = "";

    /// <summary>Model round trips allowed in one turn (each may run several tool calls), so a failed proposal can be fixed and proposed again.</summary>
    [Range(1, 20)]
    public int MaxSteps { get; set; } = 8;

    /// <summary>Messages of a session kept as history for the next turn.</summary>
    [Range(2, 500)]
    public int HistoryMessages { get; set; } = 40;
}
