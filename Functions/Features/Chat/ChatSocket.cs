using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Serverless.Functions.Features.Apps;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Chat;

/// <summary>
/// <c>GET /api/v1/chat/stream</c>, FastGPT's chat stream: the turns of <c>POST /chat/completions</c> (or, with a
/// <c>sessionId</c>, of <c>POST /chat/messages</c>) with <c>stream: true</c>, over one WebSocket, one turn at a time and as
/// many as the client likes. A turn is answered by the same handler as over HTTP and its events are the SSE events as
/// frames (<c>{"type": "start" | "token" | node event | "end" | "error", "turnId", …the SSE event's fields}</c>), so a
/// turn is counted, checked, refused, stored and cancelled exactly like a streamed POST. Anything the client sends
/// that cannot be done is an error frame; the socket stays open.
/// </summary>
internal static class ChatSocket
{
    /// <summary>Larger than any chat message needs; a long OpenAI-style history goes over HTTP or continues by chatId.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    private const int MaxTurnIdLength = 100;

    private const string Usage = "Send {\"type\": \"chat\", \"appId\", \"chatId\"?, \"message\" | \"messages\", \"variables\"?, \"turnId\"?} "
        + "(or \"sessionId\" instead of \"appId\"), {\"type\": \"cancel\"} or {\"type\": \"ping\"}.";

    /// <summary>What a client sends: a chat turn (the body of the HTTP endpoints without <c>stream</c>), a cancel, or a ping.</summary>
    internal sealed record ClientMessage(
        string? Type, string? TurnId, string? AppId, string? ChatId, string? SessionId, string? Message, JsonArray? Messages, JsonObject? Variables);

    public static async Task<IResult> HandleAsync(
        HttpContext context, Caller caller, WorkspaceContext workspace, AppStore apps, ChatStore chats, ChatTurns turns, RateLimiter limiter,
        IOptions<RateLimitOptions> rateLimits, ILoggerFactory loggers)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return JsonWebSocket.NotAnUpgrade();
        }

        var logger = loggers.CreateLogger(typeof(ChatSocket).FullName!);
        using var socket = await JsonWebSocket.AcceptAsync(context, MaxMessageBytes);
        var connection = new Connection(socket, new TurnServices(caller, workspace, apps, chats, turns, limiter, rateLimits.Value, logger), context.RequestAborted);
        try
        {
            await connection.ReceiveAsync();
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // The client went away.
        }
        catch (Exception exception)
        {
            ChatLog.SocketFailed(logger, exception);
            await socket.CloseAsync(WebSocketCloseStatus.InternalServerError, "An unexpected error occurred.", CancellationToken.None);
        }
        finally
        {
            await connection.EndAsync();
        }

        return Results.Empty;
    }

    private sealed record TurnServices(
        Caller Caller, WorkspaceContext Workspace, AppStore Apps, ChatStore Chats, ChatTurns Turns, RateLimiter Limiter, RateLimitOptions RateLimits,
        ILogger Logger);

    /// <summary>The turn being answered: cancelling its token is what a client leaving an SSE answer does.</summary>
    private sealed record Turn(CancellationTokenSource Cancel, SocketChatWriter Writer, Task Answered);

    /// <summary>One connection: reads the client's messages and answers at most one turn at a time beside them.</summary>
    private sealed class Connection(JsonWebSocket socket, TurnServices services, CancellationToken aborted)
    {
        private Turn? _turn;
        private int _turns;

        /// <summary>
        /// A turn is answered until its last frame (end or error) is sent: a client may send the next one as soon as it
        /// reads that frame, even while the turn still tidies up (a chat it opened and failed to answer is removed).
        /// </summary>
        private bool Busy => _turn is { Writer.Ended: false, Answered.IsCompleted: false };

        public async Task ReceiveAsync()
        {
            while (await socket.ReceiveAsync<ClientMessage>(aborted) is { } received)
            {
                if (received.Problem is { } problem)
                {
                    await SendErrorAsync(null, Api.BadRequest(problem + " " + Usage), aborted);
                    continue;
                }

                var message = received.Value!;
                switch (message.Type)
                {
                    case "chat":
                        await StartTurnAsync(message);
                        break;
                    case "cancel" when Busy && (message.TurnId is null || message.TurnId == _turn!.Writer.TurnId):
                        await _turn!.Cancel.CancelAsync();
                        break;
                    case "cancel":
                        await SendErrorAsync(message.TurnId, Api.NotFound("No such turn is being answered."), aborted);
                        break;
                    case "ping":
                        await socket.SendAsync(new { type = "pong" }, aborted);
                        break;
                    default:
                        await SendErrorAsync(message.TurnId, Api.BadRequest($"Unknown message type '{message.Type}'. " + Usage), aborted);
                        break;
                }
            }
        }

        /// <summary>The connection ends: a turn still answered is abandoned, as when an SSE client leaves.</summary>
        public async Task EndAsync()
        {
            if (_turn is { } turn)
            {
                await turn.Cancel.CancelAsync();
                await turn.Answered;
                turn.Cancel.Dispose();
            }
        }

        private async Task StartTurnAsync(ClientMessage message)
        {
            if (message.TurnId is { Length: > MaxTurnIdLength })
            {
                await SendErrorAsync(null, Api.Validation("turnId", $"turnId may be at most {MaxTurnIdLength} characters."), aborted);
                return;
            }

            var turnId = message.TurnId ?? $"turn_{++_turns}";
            if (Busy)
            {
                await SendErrorAsync(turnId, Api.Conflict($"Turn {_turn!.Writer.TurnId} is still being answered; wait for its end or error frame, or cancel it."), aborted);
                return;
            }

            if (_turn is { } previous)
            {
                await previous.Answered;
                previous.Cancel.Dispose();
            }

            var cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            var writer = new SocketChatWriter(socket, turnId);
            _turn = new Turn(cancel, writer, AnswerAsync(message, writer, cancel.Token));
        }

        private async Task AnswerAsync(ClientMessage message, SocketChatWriter writer, CancellationToken cancellationToken)
        {
            // Let the receive loop go on at once: it must see a cancel or a ping while this turn is answered.
            await Task.Yield();
            try
            {
                try
                {
                    var result = await TurnResultAsync(message, cancellationToken);
                    if (result is ChatEventStream stream)
                    {
                        await stream.RunAsync(writer, cancellationToken);
                    }
                    else
                    {
                        await writer.EndAsync(ErrorFrame.Of(writer.TurnId, result as IApiErrorResult
                            ?? throw new InvalidOperationException($"A streamed chat turn answered with {result.GetType().Name}.")), cancellationToken);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Cancelled before the answer began; the frame below tells the client.
                }

                if (cancellationToken.IsCancellationRequested && !writer.Ended)
                {
                    await writer.EndAsync(new ErrorFrame(writer.TurnId, null, Cancelled, writer.Stored
                        ? "The turn was cancelled after its answer was stored."
                        : "The turn was cancelled; nothing of it was stored.", null, null), aborted);
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException && aborted.IsCancellationRequested)
            {
                // The connection is gone: there is nobody to tell.
            }
            catch (Exception exception)
            {
                ChatLog.SocketTurnFailed(services.Logger, exception, writer.TurnId);
                await EndQuietlyAsync(writer, new ErrorFrame(writer.TurnId, StatusCodes.Status500InternalServerError, ErrorCodes.InternalError,
                    "An unexpected error occurred.", null, null));
            }
        }

        private async Task EndQuietlyAsync(SocketChatWriter writer, ErrorFrame frame)
        {
            try
            {
                await writer.EndAsync(frame, aborted);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
                // The connection is gone as well.
            }
        }

        /// <summary>The turn's answer from the HTTP endpoints' own handlers, after it is counted like one of their requests.</summary>
        private async Task<IResult> TurnResultAsync(ClientMessage message, CancellationToken cancellationToken)
        {
            var (key, limit) = services.RateLimits.BudgetOf(services.Caller, RateLimitClass.Execute);
            if (services.Limiter.Acquire(key, limit) is { Allowed: false } refused)
            {
                return new RateLimitedResult(refused);
            }

            var (caller, workspace, apps, chats, turns) = (services.Caller, services.Workspace, services.Apps, services.Chats, services.Turns);
            if (message.SessionId is null)
            {
                return await SendChatCompletion.HandleAsync(
                    new SendChatCompletion.Request(message.AppId, message.ChatId, message.Message, message.Messages, message.Variables, Stream: true),
                    caller, workspace, apps, chats, turns, cancellationToken);
            }

            if (message.AppId is not null || message.ChatId is not null || message.Messages is not null)
            {
                return Api.Validation("sessionId", "A session message takes sessionId, message and variables; appId, chatId and messages belong to app chats.");
            }

            return await SendSessionMessage.HandleAsync(new SendSessionMessage.Request(message.SessionId, message.Message, message.Variables, Stream: true),
                caller, workspace, apps, chats, turns, cancellationToken);
        }

        private Task SendErrorAsync(string? turnId, IApiErrorResult error, CancellationToken cancellationToken) =>
            socket.SendAsync(ErrorFrame.Of(turnId, error), cancellationToken);
    }

    private const string Cancelled = "CANCELLED";

    /// <summary>An error as a frame: the envelope's error, with the HTTP status the same refusal has on the HTTP endpoint.</summary>
    private sealed record ErrorFrame(
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TurnId,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Status,
        string Code,
        string Message,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<FieldError>? Details,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RetryAfter)
    {
        [JsonPropertyOrder(-1)]
        public string Type => "error";

        public static ErrorFrame Of(string? turnId, IApiErrorResult error) =>
            new(turnId, error.Status, error.Error.Code, error.Error.Message, error.Error.Details is { Count: > 0 } details ? details : null, error.RetryAfterSeconds);
    }

    /// <summary>A rate-limit refusal as the middleware words it for HTTP.</summary>
    private sealed class RateLimitedResult(RateDecision decision) : IApiErrorResult
    {
        public int Status => StatusCodes.Status429TooManyRequests;
        public ApiError Error => new(ErrorCodes.RateLimitExceeded, decision.Refusal, []);
        public int? RetryAfterSeconds => decision.RetryAfterSeconds;

        public Task ExecuteAsync(HttpContext httpContext) => throw new NotSupportedException("Only sent as a frame.");
    }

    /// <summary>The turn's events as frames: the SSE event's name as <c>type</c>, its fields beside it, and the turn's id.</summary>
    private sealed class SocketChatWriter(JsonWebSocket socket, string turnId) : IChatEventWriter
    {
        private volatile bool _ended;

        public string TurnId => turnId;

        public bool Stored { get; set; }

        /// <summary>Whether the turn's last frame (end or error) is sent (set just before it goes, so the client cannot be faster).</summary>
        public bool Ended => _ended;

        public Task BeginAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task WriteAsync(string name, object data, CancellationToken cancellationToken)
        {
            var frame = new JsonObject { ["type"] = name, ["turnId"] = turnId };
            foreach (var (field, value) in JsonSerializer.SerializeToNode(data, JsonSerializerOptions.Web)!.AsObject())
            {
                frame[field] = value?.DeepClone();
            }

            _ended |= name is "end" or "error";
            await socket.SendTextAsync(frame.ToJsonString(JsonSerializerOptions.Web), cancellationToken);
        }

        /// <summary>Ends the turn with an error frame of its own (a refusal, a cancel, a failure).</summary>
        public Task EndAsync(ErrorFrame frame, CancellationToken cancellationToken)
        {
            _ended = true;
            return socket.SendAsync(frame, cancellationToken);
        }

        // The server pings every connection at the protocol level (UseWebSockets' keep-alive), so an idle turn needs nothing more.
        public Task HeartbeatAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
