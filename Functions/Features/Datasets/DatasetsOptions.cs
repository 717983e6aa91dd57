using System.ComponentModel.DataAnnotations;

namespace Serverless.Functions.Features.Datasets;

internal sealed class DatasetsOptions
{
    public const string Section = "Datasets";

    /// <summary>
    /// Largest upload request (and so largest file) on the upload route; files stream to the blob store, so this can
    /// be far above the general body limit without costing memory.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>
    /// Largest single file: ingestion parses a document in memory (its text, chunks and vectors), so this bounds what one
    /// ingestion holds. 15 MiB, as Dify's default.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 15 * 1024 * 1024;

    /// <summary>Chunks embedded per gateway call during ingestion.</summary>
    [Range(1, 2048)]
    public int EmbeddingBatchSize { get; set; } = 64;

    /// <summary>
    /// How long a document may stay <c>waiting</c> before the ingestion watchdog queues its message again (a lost
    /// message); above the time a normal backlog takes to drain, since a re-queued message is ingestion done twice.
    /// </summary>
    [Range(1, 10_080)]
    public int StalledAfterMinutes { get; set; } = 15;
}
