using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Chat;

internal sealed class ChatOptions
{
    public const string Section = "Chat";

    /// <summary>Stored messages of a chat sent to the model (or a workflow's <c>history</c> input) with a new message.</summary>
    [Range(0, 200)]
    public int HistoryMessages { get; set; } = 20;

    /// <summary>
    /// The model of sessions without an app and of apps without a model. Empty: the first chat model the workspace
    /// (and the calling key's allow-list) can use.
    /// </summary>
    [MaxLength(200)]
    public string DefaultModel { get; set; } = "";

    /// <summary>Chunks retrieved from an app's datasets per message.</summary>
    [Range(1, 50)]
    public int RetrievalTopK { get; set; } = 5;

    /// <summary>How long a non-streamed message to a workflow app waits for the run (below Azure's 230 s request limit).</summary>
    [Range(1, 220)]
    public int WorkflowWaitSeconds { get; set; } = 120;
}
