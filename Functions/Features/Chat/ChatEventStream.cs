using System.Text.Json;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Features.Chat;

/// <summary>Writes named server-sent events (<c>event: start</c>, <c>token</c>, node events, <c>end</c>, <c>error</c>).</summary>
internal sealed class ChatSse(HttpResponse response)
{
    /// <summary>Set once the turn is stored; from then on the chat is kept whatever happens to the connection.</summary>
    public bool Stored { get; set; }

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
/// A chat answer as SSE. The request's abort token is the client's connection: when the client leaves, the writer is
/// cancelled (and with it whatever it reads from upstream). <paramref name="write"/> marks the turn stored on its <see cref="ChatSse"/>;
/// a chat this turn opened is removed again when it was not, so failed first messages leave no empty chats behind.
/// </summary>
internal sealed class ChatEventStream(ChatRecord? opened, ChatStore chats, Func<ChatSse, CancellationToken, Task> write, Action<bool> onClientLeft) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var cancellationToken = httpContext.RequestAborted;
        StreamingResponses.Prepare(httpContext.Response, "text/event-stream");
        var sse = new ChatSse(httpContext.Response);
        try
        {
            await httpContext.Response.Body.FlushAsync(cancellationToken);
            await write(sse, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException && cancellationToken.IsCancellationRequested)
        {
            onClientLeft(sse.Stored);
        }
        finally
        {
            if (!sse.Stored && opened is not null)
            {
                await chats.DeleteAsync(opened, CancellationToken.None);
            }
        }
    }
}
