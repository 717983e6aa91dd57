using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

/// <summary>
/// <c>GET /api/v1/ws</c>: a client subscribes to runs (<c>{"action":"subscribe","executionId":…}</c>) or to a
/// workflow's runs (<c>{"action":"subscribe","workflowId":…}</c>) of its workspace and receives their events.
/// The run's event log is the only source of what is sent: a commit merely wakes the connection, which then
/// sends that run's log from where it left off. So a replay and live events can neither repeat nor skip.
/// </summary>
internal static class ExecutionSocket
{
    private const int MaxMessageBytes = 16 * 1024;

    internal sealed record Command(string? Action, string? ExecutionId, string? WorkflowId);

    public static async Task<IResult> HandleAsync(
        HttpContext context, WorkspaceContext workspace, WorkflowRuns runs, WorkflowStore workflows, ExecutionNotifier notifier)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return Api.BadRequest("This endpoint speaks WebSocket; connect with an Upgrade: websocket request.");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var session = new Session(workspace.WorkspaceId);
        var outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });

        void OnCommitted(ExecutionDocument run, IReadOnlyList<ExecutionEvent> events)
        {
            if (events.Count > 0 && run.WorkspaceId == session.WorkspaceId && session.Wants(run))
            {
                outbox.Writer.TryWrite(new Outgoing(null, run.Id, run.WorkflowId));
            }
        }

        notifier.Committed += OnCommitted;
        var cancellationToken = context.RequestAborted;
        var sending = PumpAsync(socket, session, runs, outbox.Reader, cancellationToken);
        try
        {
            await ReceiveAsync(socket, session, runs, workflows, outbox.Writer, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
            // The client went away.
        }
        finally
        {
            notifier.Committed -= OnCommitted;
            outbox.Writer.TryComplete();
            await sending;
        }

        return Results.Empty;
    }

    private static async Task ReceiveAsync(
        WebSocket socket, Session session, WorkflowRuns runs, WorkflowStore workflows, ChannelWriter<Outgoing> outbox, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxMessageBytes];
        while (socket.State == WebSocketState.Open)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
                return;
            }

            if (!received.EndOfMessage)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "Messages are at most 16 KiB.", cancellationToken);
                return;
            }

            Command? command;
            try
            {
                command = JsonSerializer.Deserialize<Command>(buffer.AsSpan(0, received.Count), JsonSerializerOptions.Web);
            }
            catch (JsonException)
            {
                command = null;
            }

            foreach (var message in await ApplyAsync(command, session, runs, workflows, cancellationToken))
            {
                outbox.TryWrite(message);
            }
        }
    }

    private static async Task<IReadOnlyList<Outgoing>> ApplyAsync(
        Command? command, Session session, WorkflowRuns runs, WorkflowStore workflows, CancellationToken cancellationToken)
    {
        var subscribe = command?.Action == "subscribe";
        if (command is null || !subscribe && command.Action != "unsubscribe" || (command.ExecutionId is null) == (command.WorkflowId is null))
        {
            return [Text(new { type = "error", message = "Send {\"action\":\"subscribe\"|\"unsubscribe\", \"executionId\"|\"workflowId\": \"…\"}." })];
        }

        if (!subscribe)
        {
            session.Unsubscribe(command.ExecutionId, command.WorkflowId);
            return [Text(new { type = "unsubscribed", executionId = command.ExecutionId, workflowId = command.WorkflowId })];
        }

        if (command.WorkflowId is { } workflowId)
        {
            if (await workflows.GetAsync(session.WorkspaceId, workflowId, cancellationToken) is null)
            {
                return [Text(new { type = "error", message = "The workflow was not found.", workflowId })];
            }

            session.SubscribeWorkflow(workflowId);
            return [Text(new { type = "subscribed", workflowId })];
        }

        var run = (await runs.Store.LoadAsync(command.ExecutionId!, cancellationToken))?.Document;
        if (run is null || run.WorkspaceId != session.WorkspaceId)
        {
            return [Text(new { type = "error", message = "The execution was not found.", executionId = command.ExecutionId })];
        }

        session.SubscribeExecution(run.Id);
        return [Text(new { type = "subscribed", executionId = run.Id }), new Outgoing(null, run.Id, run.WorkflowId)];
    }

    /// <summary>Sends control messages as they are, and for a woken run its log from where this connection left off.</summary>
    private static async Task PumpAsync(WebSocket socket, Session session, WorkflowRuns runs, ChannelReader<Outgoing> outbox, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in outbox.ReadAllAsync(cancellationToken))
            {
                if (socket.State != WebSocketState.Open)
                {
                    return;
                }

                if (item.Text is { } text)
                {
                    await SendAsync(socket, text, cancellationToken);
                    continue;
                }

                IReadOnlyList<ExecutionEvent> events;
                do
                {
                    events = await runs.Store.ReadEventsAsync(item.ExecutionId!, session.SentThrough(item.ExecutionId!), 500, cancellationToken);
                    foreach (var e in events)
                    {
                        await SendAsync(socket, Serialize(EventMessage.From(item.ExecutionId!, item.WorkflowId, e)), cancellationToken);
                        session.MarkSent(item.ExecutionId!, e.Seq);
                    }
                }
                while (events.Count == 500);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException)
        {
        }
    }

    private static Task SendAsync(WebSocket socket, string text, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private static Outgoing Text<T>(T value) => new(Serialize(value), null, null);

    /// <summary>Either a ready message, or "send this run's new events".</summary>
    private sealed record Outgoing(string? Text, string? ExecutionId, string? WorkflowId);

    private static string Serialize<T>(T value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);

    /// <summary>One connection's subscriptions and, per run, the last event sent (so a replay and live events never repeat).</summary>
    private sealed class Session(string workspaceId)
    {
        private readonly Lock _gate = new();
        private readonly HashSet<string> _executions = new(StringComparer.Ordinal);
        private readonly HashSet<string> _workflows = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _sent = new(StringComparer.Ordinal);

        public string WorkspaceId => workspaceId;

        public bool Wants(ExecutionDocument run)
        {
            lock (_gate)
            {
                return _executions.Contains(run.Id) || _workflows.Contains(run.WorkflowId);
            }
        }

        public long SentThrough(string executionId)
        {
            lock (_gate)
            {
                return _sent.GetValueOrDefault(executionId);
            }
        }

        public void MarkSent(string executionId, long seq)
        {
            lock (_gate)
            {
                _sent[executionId] = seq;
            }
        }

        public void SubscribeExecution(string id)
        {
            lock (_gate)
            {
                _executions.Add(id);
            }
        }

        public void SubscribeWorkflow(string id)
        {
            lock (_gate)
            {
                _workflows.Add(id);
            }
        }

        public void Unsubscribe(string? executionId, string? workflowId)
        {
            lock (_gate)
            {
                _executions.Remove(executionId ?? "");
                _workflows.Remove(workflowId ?? "");
            }
        }
    }
}
