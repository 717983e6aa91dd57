namespace Serverless.Orchestrations.Runtime;

/// <summary>Engine limits and timings.</summary>
public sealed class EngineOptions
{
    /// <summary>The queue the engine's steps travel on unless configured otherwise (the queue function listens on it).</summary>
    public const string DefaultQueueName = "workflow-steps";

    /// <summary>The work queue the engine's steps travel on.</summary>
    public string QueueName { get; init; } = DefaultQueueName;

    /// <summary>Top-level runs a workspace may have running at once; more wait as <c>queued</c>.</summary>
    public int MaxRunningPerWorkspace { get; init; } = 50;

    /// <summary>Runs a workspace may have waiting for a slot; beyond it new runs are refused.</summary>
    public int MaxQueuedPerWorkspace { get; init; } = 1000;

    /// <summary>How long an attempt holds a node beyond its own timeout before another worker may take it over.</summary>
    public TimeSpan NodeLease { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A run with no progress for this long is re-driven by the watchdog.</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(2);
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
/// Told when a top-level run reached a terminal status, after the engine's own follow-up (index, slot). Called at least
/// once per end (again when the watchdog finishes an end a crash cut short), so an implementation is idempotent.
/// </summary>
public interface IRunCompletionListener
{
    /// <summary>Reacts to the end of <paramref name="run"/>; an exception fails the step that ended it, which is retried.</summary>
    Task OnRunEndedAsync(ExecutionDocument run, CancellationToken cancellationToken);
}
