using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Ollama;

internal static class DeleteOllamaModel
{
    internal sealed record Response(bool Deleted, string Model, string Provider);

    public static async Task<IResult> HandleAsync(
        string name, string? provider, Caller caller, WorkspaceContext workspace, OllamaServer ollama, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("name", name, 300);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var (server, refused) = await ollama.PickAsync(workspace.WorkspaceId, provider, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (OllamaServer.CheckManage(server!, caller) is { } forbidden)
        {
            return forbidden;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(OllamaServer.QuickCallTimeout);
        try
        {
            using var response = await ollama.SendAsync(server!, HttpMethod.Delete, "/api/delete", new JsonObject { ["model"] = name }, false, timeout.Token);
            return response.IsSuccessStatusCode
                ? Api.Ok(new Response(true, name, server!.Name))
                : await OllamaServer.FailureAsync(response, server!, cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return OllamaServer.Unreachable(server!, OllamaServer.IsTimeout(exception, cancellationToken));
        }
    }
}
