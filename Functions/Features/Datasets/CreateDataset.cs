using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Datasets;

internal static class CreateDataset
{
    /// <summary>The body's shape, for the API description (the handler reads the JSON itself, see <see cref="DatasetInput"/>).</summary>
    internal sealed record Request(string Name, string? Description, string? EmbeddingModel, ChunkingDto? Chunking, IReadOnlyList<MetadataField>? MetadataFields);

    public static async Task<IResult> HandleAsync(JsonObject? body, Caller caller, WorkspaceContext workspace, DatasetStore store, DatasetEmbedder embedder,
        ILogger<DatasetStore> logger, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return Api.BadRequest("A JSON object body is required.");
        }

        var check = new Validator();
        var changes = DatasetInput.Read(body, creating: true, check);
        if (check.IsValid && changes.EmbeddingModel is { } model && !await embedder.IsEmbeddingModelAsync(workspace.WorkspaceId, model, cancellationToken))
        {
            check.Add("embeddingModel", $"'{model}' is not an embedding model this workspace can call (GET /v1/models).");
        }

        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var dataset = await store.CreateAsync(workspace.WorkspaceId, caller.UserId, changes, null, cancellationToken);
        DatasetsLog.Created(logger, dataset.Id, workspace.WorkspaceId);
        return Api.Created(DatasetDto.From(dataset), $"/api/v1/datasets/{dataset.Id}");
    }
}
