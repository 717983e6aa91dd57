using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Ollama;

internal static class PullOllamaModel
{
    /// <summary>ForgeTM sends <c>name</c>, Ollama today <c>model</c>: either works. <c>stream</c> defaults to true (progress as NDJSON).</summary>
    internal sealed record Request(string? Name, string? Model, bool? Stream, bool? Insecure, string? Provider);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, OllamaServer ollama, HttpContext context, CancellationToken cancellationToken)
    {
        var model = request.Model ?? request.Name;
        var check = new Validator().Require("name", model, 300);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var (server, refused) = await ollama.PickAsync(workspace.WorkspaceId, request.Provider, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (OllamaServer.CheckManage(server!, caller) is { } forbidden)
        {
            return forbidden;
        }

        var stream = request.Stream ?? true;
        var body = new JsonObject { ["model"] = model, ["stream"] = stream, ["insecure"] = request.Insecure ?? false };
        HttpResponseMessage response;
        try
        {
            // A pull can take many minutes: no timeout but the client's own disconnect.
            response = await ollama.SendAsync(server!, HttpMethod.Post, "/api/pull", body, streamResponse: true, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return OllamaServer.Unreachable(server!, timedOut: false);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                return await OllamaServer.FailureAsync(response, server!, cancellationToken);
            }

            if (!stream)
            {
                return Api.Ok(JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject ?? []);
            }

            await OllamaServer.PumpNdjsonAsync(response, context.Response, null, cancellationToken);
            return Results.Empty;
        }
    }
}
