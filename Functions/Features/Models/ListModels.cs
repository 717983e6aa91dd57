using System.Text.Json.Serialization;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Models;

internal static class ListModels
{
    internal sealed record Response(string Object, IReadOnlyList<Model> Data);

    internal sealed record Model(string Id, string Object, long Created, [property: JsonPropertyName("owned_by")] string OwnedBy);

    public static async Task<IResult> HandleAsync(Caller caller, WorkspaceContext workspace, ModelGateway gateway, CancellationToken cancellationToken)
    {
        var models = await gateway.ListModelsAsync(workspace.WorkspaceId, caller.ModelLimits, cancellationToken);
        // An empty list would leave a first-time user guessing; with no provider at all, say how to add one.
        if (models.Count == 0 && !await gateway.HasProvidersAsync(workspace.WorkspaceId, cancellationToken))
        {
            return new ModelFailure(ModelFailureKind.ModelNotFound, 404, "No model provider is available. " + ModelGateway.HowToAddProvider, null).ToOpenAiResult();
        }

        return Results.Json(new Response("list", [.. models.Select(m => new Model(m.Id, "model", 0, m.OwnedBy))]));
    }
}
