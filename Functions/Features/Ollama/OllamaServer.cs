using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Ollama;

/// <summary>
/// Ollama's native management API (<c>/api/tags</c>, <c>/api/generate</c>, <c>/api/pull</c>, <c>/api/delete</c>) on
/// an Ollama provider the workspace can use: the one named by <c>provider</c>, else the first of kind <c>ollama</c>
/// (the workspace's own before the operator's). Workspace providers go through the SSRF-guarded connection pool.
/// </summary>
internal sealed class OllamaServer(ProviderDirectory directory, UpstreamClients clients)
{
    public static readonly TimeSpan QuickCallTimeout = TimeSpan.FromSeconds(30);

    public async Task<(ProviderDefinition? Provider, IResult? Refused)> PickAsync(string workspaceId, string? name, CancellationToken cancellationToken)
    {
        var providers = await directory.ForWorkspaceAsync(workspaceId, cancellationToken);
        var provider = providers.FirstOrDefault(p => p.Kind == ProviderKinds.Ollama && (name is null || p.Name == name));
        return provider is null
            ? (null, Api.NotFound(name is null ? "No Ollama provider is configured for this workspace." : $"No Ollama provider named '{name}'."))
            : (provider, null);
    }

    /// <summary>Pulling and deleting models changes the server: the operator's servers are for platform admins, a workspace's for its admins.</summary>
    public static IResult? CheckManage(ProviderDefinition provider, Caller caller) =>
        provider.Source == ProviderSource.Platform && !caller.IsPlatformAdmin
            ? Api.Forbidden("Only platform admins manage the models of the operator's Ollama server.")
            : null;

    public async Task<HttpResponseMessage> SendAsync(ProviderDefinition provider, HttpMethod method, string path, JsonObject? body, bool streamResponse,
        CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, new Uri(provider.NativeRoot.ToString().TrimEnd('/') + path));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        if (provider.ApiKey is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await clients.For(provider).Native.SendAsync(request,
            streamResponse ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken);
    }

    /// <summary>The platform's answer to an Ollama error status (its body carries <c>{"error": "…"}</c>).</summary>
    public static async Task<IResult> FailureAsync(HttpResponseMessage response, ProviderDefinition provider, CancellationToken cancellationToken)
    {
        var message = $"The Ollama server '{provider.Name}' answered {(int)response.StatusCode}.";
        try
        {
            if (JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) is JsonObject { } body && body["error"] is JsonValue error)
            {
                message = $"Ollama: {error}";
            }
        }
        catch (JsonException)
        {
            // Not JSON: the status says enough.
        }

        return (int)response.StatusCode switch
        {
            404 => Api.NotFound(message),
            400 => Api.BadRequest(message),
            _ => Api.Error(StatusCodes.Status502BadGateway, ErrorCodes.AiServiceError, message),
        };
    }

    public static IResult Unreachable(ProviderDefinition provider, bool timedOut) => timedOut
        ? Api.Error(StatusCodes.Status504GatewayTimeout, ErrorCodes.AiServiceError, $"The Ollama server '{provider.Name}' did not answer in time.")
        : Api.Error(StatusCodes.Status502BadGateway, ErrorCodes.AiServiceError, $"The Ollama server '{provider.Name}' could not be reached.");

    /// <summary>
    /// Copies Ollama's NDJSON stream line by line as each line arrives, so progress reaches the client as it happens;
    /// <paramref name="onLine"/> sees each line (for usage). The client's disconnect cancels the copy and the upstream call.
    /// </summary>
    public static async Task PumpNdjsonAsync(HttpResponseMessage upstream, HttpResponse response, Action<string>? onLine, CancellationToken cancellationToken)
    {
        try
        {
            await StreamingResponses.StartAsync(response, "application/x-ndjson", cancellationToken);
            await using var stream = await upstream.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                onLine?.Invoke(line);
                await response.WriteAsync(line + "\n", cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left; disposing the upstream response (by the caller) closes the Ollama request.
        }
        catch (IOException)
        {
            // Either side broke off mid-stream; the headers are sent, so the truncated stream is the answer.
        }
    }

    public static bool IsTimeout(Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && !cancellationToken.IsCancellationRequested;
}
