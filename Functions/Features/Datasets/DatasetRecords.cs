using System.Text.Json.Nodes;

namespace Serverless.Functions.Features.Datasets;

internal static class ChunkingModes
{
    public const string General = "general";
    public const string Paragraph = "paragraph";
    public const string QaPairs = "qa_pairs";

    public static readonly string[] All = [General, Paragraph, QaPairs];
}

internal sealed record ChunkingSettings(string Mode, int Size, int Overlap, IReadOnlyList<string>? Separators)
{
    public const int MinSize = 50;
    public const int MaxSize = 8000;

    public static readonly string[] DefaultSeparators = ["\n\n", "\n", ". ", " "];

    public static ChunkingSettings Default => new(ChunkingModes.General, 800, 100, null);

    public IReadOnlyList<string> EffectiveSeparators => Separators is { Count: > 0 } s ? s : DefaultSeparators;
}

/// <summary>A declared metadata field: documents' values for it must have this type (string, number or boolean).</summary>
internal sealed record MetadataField(string Name, string Type);

internal sealed record DatasetRecord(
    string Id,
    string Name,
    string Description,
    string? EmbeddingModel,
    ChunkingSettings Chunking,
    IReadOnlyList<MetadataField> MetadataFields,
    string? Namespace,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

internal static class DocumentStatus
{
    public const string Waiting = "waiting";
    public const string Parsing = "parsing";
    public const string Splitting = "splitting";
    public const string Embedding = "embedding";
    public const string Indexing = "indexing";
    public const string Completed = "completed";
    public const string Error = "error";

    public static readonly string[] All = [Waiting, Parsing, Splitting, Embedding, Indexing, Completed, Error];

    public static bool IsFinal(string status) => status is Completed or Error;
}

/// <summary>
/// One uploaded document. <see cref="Version"/> grows with every re-upload of the same id, so an ingestion message
/// for an older upload sees it is stale and does nothing; <see cref="BatchId"/> names the upload request it came in.
/// </summary>
internal sealed record DocumentRecord(
    string Id,
    string DatasetId,
    string Title,
    string Source,
    string Format,
    string BlobName,
    long SizeBytes,
    JsonObject Metadata,
    string Status,
    string? Error,
    int ChunksDone,
    int ChunksTotal,
    int Version,
    string BatchId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt);

internal sealed record ChunkingDto(string Mode, int Size, int Overlap, IReadOnlyList<string> Separators);

internal sealed record DatasetDto(
    string Id, string Name, string Description, string? EmbeddingModel, ChunkingDto Chunking, IReadOnlyList<MetadataField> MetadataFields,
    string? Namespace, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static DatasetDto From(DatasetRecord d) => new(d.Id, d.Name, d.Description, d.EmbeddingModel,
        new ChunkingDto(d.Chunking.Mode, d.Chunking.Size, d.Chunking.Overlap, d.Chunking.EffectiveSeparators), d.MetadataFields,
        d.Namespace, d.CreatedBy, d.CreatedAt, d.UpdatedAt);
}

internal sealed record DocumentProgress(int ChunksDone, int ChunksTotal, double Percent);

internal sealed record DocumentDto(
    string Id, string DatasetId, string Title, string Source, string Format, long SizeBytes, JsonObject Metadata, string Status, string? Error,
    DocumentProgress Progress, int Version, string BatchId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? CompletedAt)
{
    public static DocumentDto From(DocumentRecord d) => new(d.Id, d.DatasetId, d.Title, d.Source, d.Format, d.SizeBytes,
        (JsonObject)d.Metadata.DeepClone(), d.Status, d.Error,
        new DocumentProgress(d.ChunksDone, d.ChunksTotal, d.ChunksTotal == 0 ? (d.Status == DocumentStatus.Completed ? 100 : 0) : Math.Round(100.0 * d.ChunksDone / d.ChunksTotal, 1)),
        d.Version, d.BatchId, d.CreatedAt, d.UpdatedAt, d.CompletedAt);
}
