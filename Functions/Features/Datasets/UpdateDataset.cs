using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class UpdateDataset
{
    internal sealed record Request(string? Name, string? Description, string? EmbeddingModel, ChunkingDto? Chunking, IReadOnlyList<MetadataField>? MetadataFields);

    public static async Task<IResult> HandleAsync(string id, JsonObject? body, WorkspaceContext workspace, DatasetStore store, DatasetEmbedder embedder,
        CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        if (await store.GetAsync(workspace.WorkspaceId, id, cancellationToken) is not { } current)
        {
            return Api.NotFound("The dataset was not found.");
        }

        var check = new Validator();
        var changes = DatasetInput.Read(body, creating: false, check);
        var newModel = changes.ClearEmbeddingModel ? null : changes.EmbeddingModel ?? current.EmbeddingModel;
        if (check.IsValid && newModel != current.EmbeddingModel && newModel is not null
            && !await embedder.IsEmbeddingModelAsync(workspace.WorkspaceId, newModel, cancellationToken))
        {
            check.Add("embeddingModel", $"'{newModel}' is not an embedding model this workspace can call (GET /v1/models).");
        }

        if (!check.IsValid)
        {
            return check.ToResult();
        }

        // Vectors of two models cannot be compared, so the model may only change while there is nothing embedded.
        if (newModel != current.EmbeddingModel && await store.HasDocumentsAsync(workspace.WorkspaceId, id, cancellationToken))
        {
            return Api.Conflict("The embedding model cannot change while the dataset holds documents; delete them (or create a new dataset) first.");
        }

        var updated = await store.UpdateAsync(workspace.WorkspaceId, id, changes, cancellationToken);
        return updated is null ? Api.NotFound("The dataset was not found.") : Api.Ok(DatasetDto.From(updated));
    }
}
