using System.Globalization;
using System.Text.Json;
using Serverless.Orchestrations.Ports;

namespace Serverless.Orchestrations.Runtime;

/// <summary>A run document as read, with the ETag a write must match.</summary>
/// <param name="Document">The run.</param>
/// <param name="ETag">Its version.</param>
public sealed record LoadedExecution(ExecutionDocument Document, string ETag);

/// <summary>Run documents and their event logs on the entity-store port.</summary>
public sealed class ExecutionStore(IEntityStore store)
{
    private const string Table = "executions";
    private const string EventsTable = "executionevents";
    private const string Row = "run";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The run, or null (also for ids no run can have).</summary>
    public async Task<LoadedExecution?> LoadAsync(string executionId, CancellationToken cancellationToken)
    {
        if (!StoreKeys.IsValidKey(executionId))
        {
            return null;
        }

        var entity = await store.GetAsync(Table, executionId, Row, cancellationToken);
        return entity is null ? null : new LoadedExecution(JsonSerializer.Deserialize<ExecutionDocument>(entity.Json, Json)!, entity.ETag);
    }

    internal async Task<string?> InsertAsync(ExecutionDocument document, CancellationToken cancellationToken)
    {
        var result = await store.InsertAsync(Table, document.Id, Row, JsonSerializer.Serialize(document, Json), cancellationToken);
        return result.Succeeded ? result.ETag : null;
    }

    internal async Task<string?> ReplaceAsync(ExecutionDocument document, string etag, CancellationToken cancellationToken)
    {
        var result = await store.ReplaceAsync(Table, document.Id, Row, JsonSerializer.Serialize(document, Json), etag, cancellationToken);
        return result.Succeeded ? result.ETag : null;
    }

    /// <summary>
    /// Writes one commit's events as one row, keyed by the batch's last sequence number: a reader asking for what
    /// follows seq n starts at key n+1 and so finds every batch that holds a later event. Idempotent.
    /// </summary>
    internal Task AppendEventsAsync(string executionId, IReadOnlyList<ExecutionEvent> events, CancellationToken cancellationToken) =>
        events.Count == 0
            ? Task.CompletedTask
            : store.UpsertAsync(EventsTable, executionId, SeqKey(events[^1].Seq), JsonSerializer.Serialize(events, Json), cancellationToken);

    /// <summary>Events after <paramref name="afterSeq"/>, in order and without gaps, at most <paramref name="max"/>.</summary>
    public async Task<IReadOnlyList<ExecutionEvent>> ReadEventsAsync(string executionId, long afterSeq, int max, CancellationToken cancellationToken)
    {
        if (!StoreKeys.IsValidKey(executionId))
        {
            return [];
        }

        var events = new List<ExecutionEvent>();
        string? token = null;
        do
        {
            var page = await store.QueryAsync(EventsTable, new EntityQuery
            {
                PartitionKey = executionId,
                RowKeyFrom = SeqKey(afterSeq + 1),
                Take = 100,
                ContinuationToken = token,
            }, cancellationToken);
            foreach (var batch in page.Items)
            {
                events.AddRange(JsonSerializer.Deserialize<List<ExecutionEvent>>(batch.Json, Json)!.Where(e => e.Seq > afterSeq));
            }

            token = page.ContinuationToken;
        }
        while (token is not null && events.Count < max);

        // Only a gap-free run from afterSeq + 1: a batch still being written must not be skipped by a reader that
        // would otherwise move past it.
        var contiguous = 0;
        while (contiguous < events.Count && contiguous < max && events[contiguous].Seq == afterSeq + 1 + contiguous)
        {
            contiguous++;
        }

        return events[..contiguous];
    }

    private static string SeqKey(long seq) => seq.ToString("D12", CultureInfo.InvariantCulture);
}
