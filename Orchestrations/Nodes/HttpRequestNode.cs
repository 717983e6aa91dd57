using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Ports;

namespace Serverless.Orchestrations.Nodes;

/// <summary>Where <c>http_request</c> may connect.</summary>
public sealed class OutboundHttpPolicy
{
    /// <summary>Host names or IP addresses that may be reached although they are private or loopback (e.g. for tests or an internal service).</summary>
    public IReadOnlyCollection<string> AllowedPrivateHosts { get; init; } = [];

    /// <summary>Largest response body read, in bytes.</summary>
    public int MaxResponseBytes { get; init; } = 10 * 1024 * 1024;
}

/// <summary>
/// <c>http_request</c>: calls a URL. Internal addresses are refused at connect time (after DNS, so rebinding
/// cannot sneak past) unless the host is allow-listed. 429 and 5xx are retryable failures; other non-2xx fail
/// unless <c>failOnErrorStatus</c> is false. With <c>credentialId</c> it attaches a stored credential of the run's
/// workspace (only to a host the credential is bound to); its secret never appears in the node's output or error.
/// </summary>
public sealed class HttpRequestNode : INodeType
{
    private const double DefaultTimeoutSeconds = 30;
    private const double MaxTimeoutSeconds = 300;
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    private readonly OutboundHttpPolicy _policy;
    private readonly ICredentialResolver? _credentials;
    private readonly HttpClient _client;

    /// <summary>Creates the node with its connection policy and, where the host has one, the credential store <c>credentialId</c> reads.</summary>
    public HttpRequestNode(OutboundHttpPolicy policy, ICredentialResolver? credentials = null)
    {
        _policy = policy;
        _credentials = credentials;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <inheritdoc />
    public NodeTypeDescriptor Descriptor { get; } = new("http_request", "HTTP request", "Calls a URL; outputs status, headers and body (JSON parsed when the response is JSON). Internal addresses are refused. credentialId attaches a stored credential (GET /api/v1/integrations) to requests for the hosts it is bound to.", "integration",
        Schemas.Parse("""
            {"type":"object","required":["url"],"properties":{
              "method":{"enum":["GET","POST","PUT","PATCH","DELETE","HEAD","OPTIONS"],"default":"GET"},
              "url":{"type":"string","format":"uri"},"headers":{"type":"object","additionalProperties":{"type":"string"}},
              "body":{"description":"a string is sent as text; anything else as JSON"},
              "timeoutSeconds":{"type":"number","minimum":1,"maximum":300,"default":30},
              "failOnErrorStatus":{"type":"boolean","default":true},
              "credentialId":{"type":"string","description":"a stored credential of the workspace, used by reference: sent only to the hosts it is bound to, never shown"}}}
            """),
        Schemas.Parse("""{"type":"object","properties":{"status":{"type":"integer"},"headers":{"type":"object"},"body":{}}}"""), [], IsInstant: false);

    /// <inheritdoc />
    public IEnumerable<string> Validate(NodeDefinition node)
    {
        if (JsonValues.AsString(node.Config?["method"]) is { } method && !Methods.Contains(method.ToUpperInvariant()))
        {
            yield return $"config.method must be one of {string.Join(", ", Methods)}.";
        }

        if (JsonValues.AsString(node.Config?["url"]) is { } url && !url.Contains("{{", StringComparison.Ordinal)
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return "config.url must be an absolute http or https URL.";
        }

        if (node.Config?["credentialId"] is { } credentialId && JsonValues.AsString(credentialId) is not { Length: > 0 and <= 200 })
        {
            yield return "config.credentialId must be a credential id (a string).";
        }
    }

    /// <inheritdoc />
    public async ValueTask<NodeResult> ExecuteAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = context.Config;
        if (!Uri.TryCreate(JsonValues.ToText(config["url"]), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return NodeResult.Fail("INVALID_URL", "url must be an absolute http or https URL.", retryable: false);
        }

        var method = (JsonValues.AsString(config["method"]) ?? "GET").ToUpperInvariant();
        var timeout = Math.Clamp(JsonValues.AsNumber(config["timeoutSeconds"]) ?? DefaultTimeoutSeconds, 1, MaxTimeoutSeconds);
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        if (config["body"] is { } body && method is not ("GET" or "HEAD"))
        {
            request.Content = JsonValues.AsString(body) is { } text
                ? new StringContent(text, Encoding.UTF8, "text/plain")
                : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in config["headers"] as JsonObject ?? [])
        {
            if (!request.Headers.TryAddWithoutValidation(name, JsonValues.ToText(value)))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, JsonValues.ToText(value));
            }
        }

        // The attempt may run twice (activities are at least once): a server that honours idempotency keys sees one call.
        if (!request.Headers.Contains("Idempotency-Key"))
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", context.IdempotencyKey);
        }

        ResolvedCredential? credential = null;
        if (config["credentialId"] is { } credentialNode)
        {
            if (JsonValues.AsString(credentialNode) is not { Length: > 0 } credentialId)
            {
                return NodeResult.Fail("INVALID_CONFIG", "config.credentialId must be a credential id (a string).", retryable: false);
            }

            if (_credentials is null)
            {
                return NodeResult.Fail(CredentialRefusals.Unavailable, "This host has no credential store; credentialId cannot be used.", retryable: false);
            }

            credential = await _credentials.AttachAsync(context.WorkspaceId, credentialId, request, cancellationToken);
            if (credential.Refusal is { } refusal)
            {
                return NodeResult.Fail(refusal.Code, refusal.Message, retryable: false);
            }
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(TimeSpan.FromSeconds(timeout));
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token);
            JsonNode output = new JsonObject
            {
                ["status"] = (int)response.StatusCode,
                ["headers"] = ReadHeaders(response),
                ["body"] = await ReadBodyAsync(response.Content, timeoutSource.Token),
            };
            var status = (int)response.StatusCode;
            if (credential is not null)
            {
                // An upstream may echo what it received (a debugging endpoint, an error page): the output is kept in the run.
                output = credential.Redact(output)!;
                await _credentials!.ReportIfRejectedAsync(credential, status, cancellationToken);
            }

            var failOnError = config["failOnErrorStatus"] is not JsonValue flag || flag.GetValueKind() != JsonValueKind.False;
            if (status >= 400 && failOnError)
            {
                var refused = credential is not null && CredentialRefusals.IsRejection(status) ? $" The upstream refused credential {credential.CredentialId}." : "";
                return NodeResult.Fail("HTTP_ERROR", $"{method} {uri.GetLeftPart(UriPartial.Path)} answered {status}.{refused}", retryable: status is 408 or 429 or >= 500, output);
            }

            return NodeResult.Complete(output);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NodeResult.Fail("HTTP_TIMEOUT", $"{method} {uri.GetLeftPart(UriPartial.Path)} did not answer within {timeout} s.", retryable: true);
        }
        catch (HttpRequestException exception) when (exception.InnerException is BlockedAddressException blocked)
        {
            return NodeResult.Fail("ADDRESS_NOT_ALLOWED", blocked.Message, retryable: false);
        }
        catch (HttpRequestException exception)
        {
            return NodeResult.Fail("HTTP_UNREACHABLE", $"{method} {uri.GetLeftPart(UriPartial.Path)} failed: {exception.HttpRequestError}.", retryable: true);
        }
        catch (ResponseTooLargeException)
        {
            return NodeResult.Fail("RESPONSE_TOO_LARGE", $"The response is larger than {_policy.MaxResponseBytes} bytes.", retryable: false);
        }
    }

    private ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var hostAllowed = _policy.AllowedPrivateHosts.Contains(context.DnsEndPoint.Host, StringComparer.OrdinalIgnoreCase);
        return InternalAddresses.ConnectAsync(context.DnsEndPoint,
            a => hostAllowed || _policy.AllowedPrivateHosts.Contains(a.ToString()) || !InternalAddresses.IsInternal(a),
            host => new BlockedAddressException($"{host} resolves to an internal address; add it to Http:AllowedPrivateHosts to allow it."),
            cancellationToken);
    }

    private static JsonObject ReadHeaders(HttpResponseMessage response)
    {
        var headers = new JsonObject();
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            headers[name.ToLowerInvariant()] = string.Join(", ", values);
        }

        return headers;
    }

    private async Task<JsonNode?> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > _policy.MaxResponseBytes)
            {
                throw new ResponseTooLargeException();
            }

            buffer.Write(chunk, 0, read);
        }

        var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        var mediaType = content.Headers.ContentType?.MediaType ?? "";
        if (text.Length > 0 && (mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                return text;
            }
        }

        return text;
    }

    private sealed class BlockedAddressException(string message) : Exception(message);

    private sealed class ResponseTooLargeException : Exception;
}
