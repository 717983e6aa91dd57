using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Platform.Durable;

/// <summary>
/// Workflow runs on Durable Task in standalone mode. The backend follows the storage provider: the embedded SQLite
/// orchestration service with <c>Storage:Provider=Sqlite</c>, the Durable Task Azure Storage backend (Azurite locally)
/// with <c>AzureStorage</c>. In worker mode the Functions host's <c>durableTask</c> settings in host.json apply instead.
/// </summary>
internal sealed class DurableOptions
{
    public const string Section = "Durable";

    /// <summary>The task hub: the orchestrations of one deployment (Azure Storage: the prefix of its queues, tables and containers).</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    public string TaskHub { get; set; } = "workflows";

    /// <summary>Orchestration episodes run at once.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentOrchestrations { get; set; } = 64;

    /// <summary>Activities (node attempts: model calls, HTTP) run at once.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentActivities { get; set; } = 64;

    /// <summary>
    /// Azure Storage backend: how long a worker's claim on a control-queue partition lasts. After a crash the
    /// partitions are free again after this (the default 30 s of Durable Functions; shorter locally).
    /// </summary>
    [Range(5, 300)]
    public int LeaseSeconds { get; set; } = 15;

    /// <summary>
    /// Azure Storage backend: how long a queue message a worker took stays invisible to others (Durable Task's default is
    /// 5 min). A crashed worker's messages come back after this; live workers renew theirs while they work.
    /// </summary>
    [Range(10, 600)]
    public int MessageVisibilitySeconds { get; set; } = 30;
}
