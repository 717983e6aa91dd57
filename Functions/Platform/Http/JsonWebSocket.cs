using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Serverless.Functions.Platform.Http;

/// <summary>Endpoint metadata: the route speaks WebSocket, so a browser (which cannot set headers on the handshake) may authenticate with <c>?access_token=</c>.</summary>
internal sealed record WebSocketEndpoint;

internal static class WebSocketEndpoints
{
    public static TBuilder AsWebSocket<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new WebSocketEndpoint());
}

/// <summary>One message a client sent: its command, or why it could not be read as one.</summary>
internal readonly record struct SocketMessage<T>(T? Value, string? Problem) where T : class;

/// <summary>
/// The platform's WebSockets speak JSON text messages. This is their one transport: messages are assembled across
/// frames up to a size limit (a larger one is answered with an error message and close code 1009), sends are one at a
/// time (a WebSocket allows a single sender) and wait for the client, so a slow reader slows its producer instead of
/// piling up memory, and a client's close is answered with a normal close.
/// </summary>
internal sealed class JsonWebSocket : IDisposable
{
    private const int InitialBuffer = 4 * 1024;

    private readonly WebSocket _socket;
    private readonly int _maxMessageBytes;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private byte[] _buffer;

    private JsonWebSocket(WebSocket socket, int maxMessageBytes)
    {
        _socket = socket;
        _maxMessageBytes = maxMessageBytes;
        _buffer = new byte[Math.Min(InitialBuffer, maxMessageBytes)];
    }

    public bool IsOpen => _socket.State == WebSocketState.Open;

    /// <summary>What a plain HTTP request to a WebSocket route gets.</summary>
    public static IResult NotAnUpgrade() =>
        Api.BadRequest("This endpoint speaks WebSocket; connect with an Upgrade: websocket request.");

    /// <summary>Accepts the upgrade (check <see cref="WebSocketManager.IsWebSocketRequest"/> first).</summary>
    public static async Task<JsonWebSocket> AcceptAsync(HttpContext context, int maxMessageBytes) =>
        new(await context.WebSockets.AcceptWebSocketAsync(), maxMessageBytes);

    /// <summary>
    /// The next message, read as <typeparamref name="T"/> (JSON, case-insensitive names); a binary message, malformed
    /// JSON or a JSON null comes back as a problem to tell the client. Null once the connection is closing: the client
    /// closed it (answered here) or sent a message over the limit (refused here).
    /// </summary>
    public async Task<SocketMessage<T>?> ReceiveAsync<T>(CancellationToken cancellationToken) where T : class
    {
        var count = 0;
        while (true)
        {
            if (count == _buffer.Length)
            {
                if (_buffer.Length >= _maxMessageBytes)
                {
                    await RefuseTooLargeAsync(cancellationToken);
                    return null;
                }

                Array.Resize(ref _buffer, (int)Math.Min(_buffer.Length * 2L, _maxMessageBytes));
            }

            var received = await _socket.ReceiveAsync(_buffer.AsMemory(count), cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
                return null;
            }

            count += received.Count;
            if (!received.EndOfMessage)
            {
                continue;
            }

            if (received.MessageType != WebSocketMessageType.Text)
            {
                return new SocketMessage<T>(null, "Messages are JSON text; a binary message was received.");
            }

            var json = _buffer.AsSpan(0, count);
            if (!WellFormedJson.IsWellFormed(json))
            {
                return new SocketMessage<T>(null, "The message holds text that is not valid Unicode (a lone UTF-16 surrogate such as \\ud800).");
            }

            try
            {
                return JsonSerializer.Deserialize<T>(json, JsonSerializerOptions.Web) is { } value
                    ? new SocketMessage<T>(value, null)
                    : new SocketMessage<T>(null, "The message is JSON null; send a JSON object.");
            }
            catch (JsonException exception)
            {
                var field = exception.Path is { Length: > 2 } path ? $" Check {path[2..]}." : "";
                return new SocketMessage<T>(null, ErrorHandling.DescribeJson(exception, "The message") + field);
            }
        }
    }

    /// <summary>Sends one message as JSON (web casing); waits while another send is under way.</summary>
    public Task SendAsync<T>(T message, CancellationToken cancellationToken) =>
        SendTextAsync(JsonSerializer.Serialize(message, JsonSerializerOptions.Web), cancellationToken);

    public async Task SendTextAsync(string text, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Closes the sending side (after any send under way); the client's close completes the handshake.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(status, reason, cancellationToken);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _sending.Dispose();
    }

    private async Task RefuseTooLargeAsync(CancellationToken cancellationToken)
    {
        var message = $"Messages are at most {_maxMessageBytes / 1024} KiB.";
        await SendAsync(new { type = "error", code = ErrorCodes.PayloadTooLarge, message }, cancellationToken);
        await CloseAsync(WebSocketCloseStatus.MessageTooBig, message, cancellationToken);
    }
}
