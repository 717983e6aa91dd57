using System.Net.WebSockets;
using System.Text.Json;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Chat;

/// <summary>
/// Where a streamed turn's events go: <c>start</c>, <c>token</c>, node events, then <c>end</c> or <c>error</c>. The turn
/// writes the same events whatever carries them (server-sent events, a WebSocket).
/// </summary>
internal interface IChatEventWriter
{
    /// <summary>Set once the turn is stored; from then on the chat is kept whatever happens to the connection.</summary>
    bool Stored { get; set; }

    /// <summary>Before the first event (SSE sends its headers now).</summary>
    Task BeginAsync(CancellationToken cancellationToken);

    Task WriteAsync(string name, object data, CancellationToken cancellationToken);

    /// <summary>Keeps an idle connection open while a workflow run has nothing to say.</summary>
    Task HeartbeatAsync(CancellationToken cancellationToken);
}

/// <summary>Writes named server-sent events (<c>event: start</c>, <c>token</c>, node events, <c>end</c>, <c>error</c>).</summary>
internal sealed class ChatSse(HttpResponse response) : IChatEventWriter
{
    public bool Stored { get; set; }

    public Task BeginAsync(CancellationToken cancellationToken) => response.Body.FlushAsync(cancellationToken);

    public async Task WriteAsync(string name, object data, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(data, JsonSerializerOptions.Web);
        await response.WriteAsync($"event: {name}\ndata: {json}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        await response.WriteAsync(": heartbeat\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}

/// <summary>
/// A chat answer as a stream of events. Over HTTP it is the response (SSE), and the request's abort token is the
/// client's connection; a socket runs it with <see cref="RunAsync"/> and its own token. When that token is cancelled
/// (the client left), the writer is cancelled (and with it whatever it reads from upstream). <paramref name="write"/>
/// marks the turn stored on its writer; a chat this turn opened is removed again when it was not, so failed first
/// messages leave no empty chats behind.
/// </summary>
internal sealed class ChatEventStream(ChatRecord? opened, ChatStore chats, Func<IChatEventWriter, CancellationToken, Task> write, Action<bool> onClientLeft) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        StreamingResponses.Prepare(httpContext.Response, "text/event-stream");
        return RunAsync(new ChatSse(httpContext.Response), httpContext.RequestAborted);
    }

    /// <summary>Writes the turn to <paramref name="writer"/>; whether it was stored.</summary>
    public async Task<bool> RunAsync(IChatEventWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            await writer.BeginAsync(cancellationToken);
            await write(writer, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or WebSocketException && cancellationToken.IsCancellationRequested)
        {
            onClientLeft(writer.Stored);
        }
        finally
        {
            if (!writer.Stored && opened is not null)
            {
                await chats.DeleteAsync(opened, CancellationToken.None);
            }
        }

        return writer.Stored;
    }
}
