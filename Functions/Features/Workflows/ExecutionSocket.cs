using System.Net.WebSockets;
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
            return JsonWebSocket.NotAnUpgrade();
        }

        using var socket = await JsonWebSocket.AcceptAsync(context, MaxMessageBytes);
        var session = new Session(workspace.WorkspaceId);
        var outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });

        void OnCommitted(ExecutionDocument run, IReadOnlyList<ExecutionEvent> events)
        {
            // A run already due to be read needs no second wake-up: the pump reads its whole log from where it left off,
            // so a client that reads slowly holds at most one wake-up per run it follows, however fast the runs commit.
            if (events.Count > 0 && run.WorkspaceId == session.WorkspaceId && session.Wants(run) && session.MarkDue(run.Id))
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
        JsonWebSocket socket, Session session, WorkflowRuns runs, WorkflowStore workflows, ChannelWriter<Outgoing> outbox, CancellationToken cancellationToken)
    {
        while (await socket.ReceiveAsync<Command>(cancellationToken) is { } received)
        {
            var replies = received.Problem is { } problem
                ? [Text(new { type = "error", message = problem })]
                : await ApplyAsync(received.Value, session, runs, workflows, cancellationToken);
            foreach (var message in replies)
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
        session.MarkDue(run.Id);
        return [Text(new { type = "subscribed", executionId = run.Id }), new Outgoing(null, run.Id, run.WorkflowId)];
    }

    /// <summary>Sends control messages as they are, and for a woken run its log from where this connection left off.</summary>
    private static async Task PumpAsync(JsonWebSocket socket, Session session, WorkflowRuns runs, ChannelReader<Outgoing> outbox, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in outbox.ReadAllAsync(cancellationToken))
            {
                if (!socket.IsOpen)
                {
                    return;
                }

                if (item.Text is { } text)
                {
                    await socket.SendTextAsync(text, cancellationToken);
                    continue;
                }

                // Cleared before reading, so a commit landing meanwhile wakes the run again rather than being lost.
                session.ClearDue(item.ExecutionId!);
                IReadOnlyList<ExecutionEvent> events;
                do
                {
                    events = await runs.Store.ReadEventsAsync(item.ExecutionId!, session.SentThrough(item.ExecutionId!), 500, cancellationToken);
                    foreach (var e in events)
                    {
                        await socket.SendAsync(EventMessage.From(item.ExecutionId!, item.WorkflowId, e), cancellationToken);
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

    private static Outgoing Text<T>(T value) => new(JsonSerializer.Serialize(value, JsonSerializerOptions.Web), null, null);

    /// <summary>Either a ready message, or "send this run's new events".</summary>
    private sealed record Outgoing(string? Text, string? ExecutionId, string? WorkflowId);

    /// <summary>One connection's subscriptions and, per run, the last event sent (so a replay and live events never repeat).</summary>
    private sealed class Session(string workspaceId)
    {
        private readonly Lock _gate = new();
        private readonly HashSet<string> _executions = new(StringComparer.Ordinal);
        private readonly HashSet<string> _workflows = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _sent = new(StringComparer.Ordinal);
        private readonly HashSet<string> _due = new(StringComparer.Ordinal);

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

        /// <summary>Marks the run as waiting for the pump; false when it already was.</summary>
        public bool MarkDue(string executionId)
        {
            lock (_gate)
            {
                return _due.Add(executionId);
            }
        }

        public void ClearDue(string executionId)
        {
            lock (_gate)
            {
                _due.Remove(executionId);
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
