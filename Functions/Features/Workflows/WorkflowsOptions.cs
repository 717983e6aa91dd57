using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Workflows;

internal sealed class WorkflowsOptions
{
    public const string Section = "Workflows";

    /// <summary>Top-level runs a workspace may have running at once; more wait as queued.</summary>
    [Range(1, 100_000)]
    public int MaxRunningPerWorkspace { get; set; } = 50;

    /// <summary>Runs a workspace may have waiting for a slot; beyond it execute answers 429.</summary>
    [Range(1, 1_000_000)]
    public int MaxQueuedPerWorkspace { get; set; } = 1000;

    /// <summary>How long POST /run waits by default before answering 202 (ms).</summary>
    [Range(0, 220_000)]
    public int RunWaitDefaultMs { get; set; } = 30_000;

    /// <summary>The longest POST /run may be asked to wait (ms); below Azure's 230 s HTTP limit.</summary>
    [Range(0, 220_000)]
    public int RunWaitMaxMs { get; set; } = 220_000;

    /// <summary>Seconds between SSE heartbeats on an idle stream.</summary>
    [Range(1, 300)]
    public int HeartbeatSeconds { get; set; } = 15;
}
