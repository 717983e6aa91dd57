using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Search;

namespace Serverless.Functions.Features.Datasets;

/// <summary>
/// What other features (chat apps with <c>datasetIds</c>, the <c>knowledge_retrieval</c> workflow node, RAG) use to
/// retrieve from a workspace's datasets: it embeds the query with each dataset's embedding model when the mode needs
/// vectors, searches, and numbers the chunks so answers can cite them as [1], [2], ….
/// </summary>
internal interface IKnowledgeRetriever
{
    /// <summary>
    /// Retrieves from datasets of <paramref name="request"/>'s workspace. Datasets of another workspace, or unknown
    /// ones, are a <see cref="KnowledgeOutcome.NotFound"/>; vector/hybrid on a dataset without an embedding model is a
    /// <see cref="KnowledgeOutcome.Invalid"/> saying why; a failed embedding call is a <see cref="KnowledgeOutcome.ModelFailed"/>.
    /// </summary>
    Task<KnowledgeOutcome> RetrieveAsync(KnowledgeRequest request, CancellationToken cancellationToken);
}

/// <param name="Mode">null: hybrid when every dataset has an embedding model, else fulltext.</param>
internal sealed record KnowledgeRequest(
    string WorkspaceId,
    IReadOnlyList<string> DatasetIds,
    string Query,
    int TopK = 5,
    SearchMode? Mode = null,
    JsonObject? Filter = null,
    double? ScoreThreshold = null);

/// <summary>A retrieved chunk; <see cref="Citation"/> is its 1-based number in the context.</summary>
internal sealed record KnowledgeChunk(
    int Citation,
    string DatasetId,
    string DocumentId,
    string ChunkId,
    string Title,
    string Content,
    JsonObject Metadata,
    double Score);

internal abstract record KnowledgeOutcome
{
    private KnowledgeOutcome()
    {
    }

    /// <param name="Context">The chunks as one prompt-ready text, each prefixed by its citation number.</param>
    /// <param name="Mode">The mode searched (the request's, or the default it resolved to).</param>
    internal sealed record Found(IReadOnlyList<KnowledgeChunk> Chunks, string Context, SearchMode Mode) : KnowledgeOutcome;

    internal sealed record NotFound(string DatasetId) : KnowledgeOutcome;

    internal sealed record Invalid(string Field, string Message) : KnowledgeOutcome;

    /// <summary>Embedding the query failed; <see cref="Retryable"/> for 429, 5xx and timeouts.</summary>
    internal sealed record ModelFailed(ModelFailure Failure, bool Retryable) : KnowledgeOutcome;
}
