using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Ollama;

internal static class ListOllamaModels
{
    internal sealed record Response(string Provider, IReadOnlyList<Model> Models);

    internal sealed record Model(string Name, string Size, long SizeBytes, string? Digest, string? ModifiedAt, JsonNode? Details);

    public static async Task<IResult> HandleAsync(string? provider, WorkspaceContext workspace, OllamaServer ollama, CancellationToken cancellationToken)
    {
        var (server, refused) = await ollama.PickAsync(workspace.WorkspaceId, provider, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(OllamaServer.QuickCallTimeout);
        try
        {
            using var response = await ollama.SendAsync(server!, HttpMethod.Get, "/api/tags", null, false, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return await OllamaServer.FailureAsync(response, server!, cancellationToken);
            }

            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(timeout.Token)) as JsonObject;
            var models = (body?["models"] as JsonArray ?? []).OfType<JsonObject>().Select(m =>
            {
                var bytes = m["size"] is JsonValue size && size.TryGetValue(out long b) ? b : 0;
                return new Model(m["name"]?.ToString() ?? "", HumanSize(bytes), bytes, m["digest"]?.ToString(), m["modified_at"]?.ToString(), m["details"]?.DeepClone());
            }).ToList();
            return Api.Ok(new Response(server!.Name, models));
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return OllamaServer.Unreachable(server!, OllamaServer.IsTimeout(exception, cancellationToken));
        }
    }

    /// <summary>ForgeTM shows sizes the way Ollama's CLI does ("3.8GB").</summary>
    private static string HumanSize(long bytes) => bytes switch
    {
        >= 1_000_000_000 => (bytes / 1e9).ToString("0.#", CultureInfo.InvariantCulture) + "GB",
        >= 1_000_000 => (bytes / 1e6).ToString("0.#", CultureInfo.InvariantCulture) + "MB",
        >= 1_000 => (bytes / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + "B",
    };
}
