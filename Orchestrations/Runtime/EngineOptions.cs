using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Nodes;

namespace Serverless.Orchestrations.Runtime;

/// <summary>Engine limits and timings.</summary>
public sealed class EngineOptions
{
    /// <summary>Top-level runs a workspace may have running at once; more wait as <c>queued</c>.</summary>
    public int MaxRunningPerWorkspace { get; init; } = 50;

    /// <summary>Runs a workspace may have waiting for a slot; beyond it new runs are refused.</summary>
    public int MaxQueuedPerWorkspace { get; init; } = 1000;

    /// <summary>A run accepted this long ago whose orchestration does not exist (the process died in between) is started by the sweep.</summary>
    public TimeSpan OrphanAfter { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>Creates ids; replaceable so tests and replays can be deterministic.</summary>
public interface IIdGenerator
{
    /// <summary>A new unique id with the given prefix.</summary>
    string NewId(string prefix);
}

/// <summary>Time-ordered random ids (UUID v7).</summary>
public sealed class IdGenerator : IIdGenerator
{
    /// <inheritdoc />
    public string NewId(string prefix) => prefix + "_" + Guid.CreateVersion7().ToString("N");
}

/// <summary>Told, in process, of every committed change to a run (for live streams and waiting callers).</summary>
public interface IExecutionObserver
{
    /// <summary>Called after <paramref name="document"/> was committed with <paramref name="events"/>; must not block.</summary>
    void OnCommitted(ExecutionDocument document, IReadOnlyList<ExecutionEvent> events);
}

/// <summary>
/// Told when a top-level run reached a terminal status, after the run's own follow-up (index, slot). Called at least
/// once per end (the activity that ends a run may run again after a crash), so an implementation is idempotent.
/// </summary>
public interface IRunCompletionListener
{
    /// <summary>Reacts to the end of <paramref name="run"/>; an exception fails the activity that ended it, which is retried.</summary>
    Task OnRunEndedAsync(ExecutionDocument run, CancellationToken cancellationToken);
}

/// <summary>
/// Told around each attempt of a node with effects, in the process and the async flow that runs it, so what it starts
/// (a trace span, say) encloses the node's own calls. Nodes that run inside the orchestration have no attempt to observe.
/// </summary>
public interface INodeAttemptObserver
{
    /// <summary>The attempt is about to run; the scope returned (if any) is told the result and disposed when it ends.</summary>
    INodeAttemptScope? OnAttemptStarting(ExecutionDocument run, NodeDefinition node, int attempt);
}

/// <summary>What an <see cref="INodeAttemptObserver"/> keeps open for one attempt.</summary>
public interface INodeAttemptScope : IDisposable
{
    /// <summary>The attempt ended with <paramref name="result"/> (a failure too; exceptions of the node are results).</summary>
    void OnAttemptEnded(NodeResult result);
}
