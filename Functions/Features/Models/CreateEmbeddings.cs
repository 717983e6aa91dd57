using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Models;

internal static class CreateEmbeddings
{
    public static async Task<IResult> HandleAsync(JsonObject? body, Caller caller, WorkspaceContext workspace, ModelGateway gateway, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return ModelFailure.Invalid("A JSON object body is required.", null).ToOpenAiResult();
        }

        if (body["input"] is not (JsonValue or JsonArray { Count: > 0 }))
        {
            return ModelFailure.Invalid("input must be a string or a non-empty array.", "input").ToOpenAiResult();
        }

        var outcome = await gateway.EmbedAsync(OpenAiRequests.CallerOf(caller, workspace), body, cancellationToken);
        return outcome.Failure is { } failure ? failure.ToOpenAiResult() : OpenAiRequests.Raw(outcome.Value!);
    }
}
