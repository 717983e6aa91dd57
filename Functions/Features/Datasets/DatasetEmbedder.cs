using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;

namespace Serverless.Functions.Features.Datasets;

/// <summary>A model call for a dataset failed; <see cref="Failure"/> says how (status, retryable or not).</summary>
internal sealed class DatasetModelException(ModelFailure failure) : Exception(failure.Message)
{
    public ModelFailure Failure => failure;

    /// <summary>429, 5xx and timeouts may pass; anything else (an unknown model, a refused request) will not.</summary>
    public bool Retryable => failure.Status is 429 or >= 500 || failure.Kind == ModelFailureKind.Timeout;
}

/// <summary>
/// Embeds texts with a dataset's embedding model through the gateway, as the dataset's workspace (usage rows say
/// <c>datasets</c>), in one call per batch.
/// </summary>
internal sealed class DatasetEmbedder(ModelGateway gateway)
{
    public const string Source = "datasets";

    public async Task<float[][]> EmbedAsync(string workspaceId, string model, IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        var caller = new ModelCaller(workspaceId, null, null, null, Source);
        var request = new JsonObject { ["model"] = model, ["input"] = new JsonArray([.. texts.Select(t => (JsonNode?)t)]) };
        var outcome = await gateway.EmbedAsync(caller, request, cancellationToken);
        if (outcome.Failure is { } failure)
        {
            throw new DatasetModelException(failure);
        }

        var vectors = new float[texts.Count][];
        foreach (var item in outcome.Value!.Json["data"] as JsonArray ?? [])
        {
            var index = item?["index"]?.GetValue<int>() ?? -1;
            if (index >= 0 && index < vectors.Length && item?["embedding"] is JsonArray values)
            {
                vectors[index] = [.. values.Select(v => v!.GetValue<float>())];
            }
        }

        if (vectors.Any(v => v is null || v.Length == 0))
        {
            throw new DatasetModelException(new ModelFailure(ModelFailureKind.Upstream, 502,
                $"The embedding model '{model}' answered without an embedding for every input."));
        }

        return vectors;
    }

    /// <summary>The first embedding model the workspace can call, for datasets created implicitly (RAG namespaces).</summary>
    public async Task<string?> DefaultModelAsync(string workspaceId, CancellationToken cancellationToken) =>
        (await gateway.ListModelsAsync(workspaceId, null, cancellationToken)).FirstOrDefault(m => m.Embedding)?.Id;

    public async Task<bool> IsEmbeddingModelAsync(string workspaceId, string model, CancellationToken cancellationToken) =>
        (await gateway.ListModelsAsync(workspaceId, null, cancellationToken)).Any(m => m.Id == model && m.Embedding);
}
