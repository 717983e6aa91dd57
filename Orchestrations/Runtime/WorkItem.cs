namespace Serverless.Orchestrations.Runtime;

/// <summary>What the state machine asks the orchestration to do next for a node: run an attempt, or resume it.</summary>
/// <param name="NodeId">The node.</param>
/// <param name="Attempt">The attempt a node item is for.</param>
/// <param name="Kind"><see cref="Node"/> or <see cref="Resume"/>.</param>
internal sealed record WorkItem(string NodeId, int Attempt, string Kind)
{
    /// <summary>Run a node attempt.</summary>
    public const string Node = "node";
    /// <summary>Resume a waiting node (its timer fired).</summary>
    public const string Resume = "resume";
}
