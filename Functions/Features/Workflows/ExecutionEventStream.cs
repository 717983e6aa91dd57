using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Serverless.Orchestrations.Runtime;

namespace Serverless.Functions.Features.Workflows;

/// <summary>
/// Server-sent events for one run: the event log from after <c>afterSeq</c>, then live events as they commit,
/// ending after the terminal event. A heartbeat comment keeps idle connections open. The stream only reads; a
/// client that goes away affects nothing but itself.
/// </summary>
internal sealed class ExecutionEventStream(string executionId, long afterSeq, TimeSpan heartbeat) : IResult
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public static long ResumeFrom(HttpRequest request)
    {
        var given = request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } header ? header : request.Query["lastEventId"].ToString();
        return long.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq : 0;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var runs = httpContext.RequestServices.GetRequiredService<WorkflowRuns>();
        var notifier = httpContext.RequestServices.GetRequiredService<ExecutionNotifier>();
        var time = httpContext.RequestServices.GetRequiredService<TimeProvider>();
        var response = httpContext.Response;
        var cancellationToken = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken);

        try
        {
            await foreach (var e in FollowAsync(runs, notifier, time, executionId, afterSeq, heartbeat, cancellationToken))
            {
                if (e is null)
                {
                    await response.WriteAsync(": heartbeat\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    continue;
                }

                await WriteAsync(response, e, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left; the run goes on without it.
        }
    }

    /// <summary>
    /// The run's events after <paramref name="afterSeq"/>, in order and without gaps, then live ones as they commit,
    /// ending after the terminal event (or at once when the run does not exist). A null stands for
    /// <paramref name="idle"/> passing without an event, so a reader can keep its connection alive.
    /// </summary>
    public static async IAsyncEnumerable<ExecutionEvent?> FollowAsync(
        WorkflowRuns runs, ExecutionNotifier notifier, TimeProvider time, string executionId, long afterSeq, TimeSpan idle,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = afterSeq;
        var lastWrite = time.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            var changed = notifier.NextChange(executionId);
            var events = await runs.Store.ReadEventsAsync(executionId, after, 500, cancellationToken);
            if (events.Count == 0)
            {
                // Committed events reach the log just after the commit; the document already has them.
                var run = (await runs.Store.LoadAsync(executionId, cancellationToken))?.Document;
                if (run is null)
                {
                    yield break;
                }

                events = [.. run.PendingEvents.SkipWhile(e => e.Seq <= after).TakeWhile((e, i) => e.Seq == after + 1 + i)];
                if (events.Count == 0 && ExecutionStatus.IsTerminal(run.Status) && run.EventSeq <= after)
                {
                    yield break;
                }
            }

            foreach (var e in events)
            {
                yield return e;
                after = e.Seq;
                lastWrite = time.GetUtcNow();
                if (EventTypes.IsTerminal(e.Type))
                {
                    yield break;
                }
            }

            if (events.Count > 0)
            {
                continue;
            }

            await Task.WhenAny(changed, Task.Delay(Poll, time, cancellationToken));
            if (time.GetUtcNow() - lastWrite >= idle)
            {
                yield return null;
                lastWrite = time.GetUtcNow();
            }
        }
    }

    private async Task WriteAsync(HttpResponse response, ExecutionEvent e, CancellationToken cancellationToken)
    {
        var data = JsonSerializer.Serialize(EventMessage.From(executionId, null, e), JsonSerializerOptions.Web);
        await response.WriteAsync($"id: {e.Seq}\nevent: {e.Type}\ndata: {data}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}

/// <summary>An event as clients receive it over SSE and WebSocket.</summary>
internal sealed record EventMessage(string Type, string ExecutionId, string? WorkflowId, long Seq, string? NodeId, System.Text.Json.Nodes.JsonObject? Data, DateTimeOffset Timestamp)
{
    public static EventMessage From(string executionId, string? workflowId, ExecutionEvent e) =>
        new(e.Type, executionId, workflowId, e.Seq, e.NodeId, e.Data, e.Timestamp);
}
