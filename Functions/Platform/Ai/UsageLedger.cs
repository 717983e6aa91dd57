using System.Globalization;
using System.Threading.Channels;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Platform.Ai;

/// <summary>One model call as it is billed and reported.</summary>
internal sealed record UsageRecord(
    string Id,
    string WorkspaceId,
    string? UserId,
    string? ApiKeyId,
    string Model,
    string? Provider,
    string Operation,
    bool Stream,
    int PromptTokens,
    int CompletionTokens,
    int TotalTokens,
    decimal CostUsd,
    long LatencyMs,
    long? TimeToFirstTokenMs,
    string Status,
    string Source,
    DateTimeOffset CreatedAt);

internal static class UsageStatus
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";
}

/// <summary>A slice of a workspace's usage rows written together (one entity), oldest first.</summary>
internal sealed record UsageBatch(IReadOnlyList<UsageRecord> Records);

/// <summary>
/// Usage rows, one per model call. Calls hand their row over and go on: a background writer persists them, so the
/// store's latency never adds to a model call's. Rows are written in batches (one entity per workspace per flush,
/// under a row key holding the batch's first time), so the store sees a few writes a second instead of one per call;
/// reads unpack the batches, so callers only ever see rows.
/// </summary>
internal sealed class UsageLedger(IEntityStore store, ILogger<UsageLedger> logger) : BackgroundService
{
    /// <summary>How long the writer gathers rows before a flush; it bounds how stale usage reads are.</summary>
    public static readonly TimeSpan FlushDelay = TimeSpan.FromMilliseconds(100);

    // Batches stay well below a table entity's size limits (a row is about 400 bytes of JSON).
    private const int MaxBatch = 100;
    private const string RowTimeFormat = "yyyyMMddHHmmssfffffff";
    // A batch's key is its first row's time; its last row is at most this much later.
    private static readonly TimeSpan MaxBatchSpan = TimeSpan.FromMinutes(1);

    private readonly EntityTable<UsageBatch> _batches = new(store, "modelusage");
    private readonly Channel<UsageRecord> _pending = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = true });

    public void Record(UsageRecord record)
    {
        if (!_pending.Writer.TryWrite(record))
        {
            ModelGatewayLog.UsageDropped(logger, record.Id);
        }
    }

    /// <summary>The workspace's usage rows from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), oldest first.</summary>
    public async Task<List<UsageRecord>> ListAsync(string workspaceId, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var query = new EntityQuery
        {
            PartitionKey = workspaceId,
            RowKeyFrom = from is { } f ? RowPrefix(f > DateTimeOffset.MinValue + MaxBatchSpan ? f - MaxBatchSpan : f) : null,
            RowKeyTo = to is { } t ? RowPrefix(t) : null,
            Take = EntityQuery.MaxTake,
        };
        var rows = new List<UsageRecord>();
        await foreach (var batch in _batches.QueryAllAsync(query, cancellationToken))
        {
            rows.AddRange(batch.Value.Records.Where(r => (from is null || r.CreatedAt >= from) && (to is null || r.CreatedAt < to)));
        }

        rows.Sort((a, b) => a.CreatedAt.CompareTo(b.CreatedAt));
        return rows;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                await Task.Delay(FlushDelay, stoppingToken);
                await DrainAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync writes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _pending.Writer.TryComplete();
        await DrainAsync(cancellationToken);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var gathered = new List<UsageRecord>();
        while (_pending.Reader.TryRead(out var record))
        {
            gathered.Add(record);
        }

        foreach (var workspace in gathered.GroupBy(r => r.WorkspaceId, StringComparer.Ordinal))
        {
            foreach (var chunk in workspace.OrderBy(r => r.CreatedAt).Chunk(MaxBatch))
            {
                try
                {
                    var key = RowPrefix(chunk[0].CreatedAt) + "_" + chunk[0].Id;
                    await _batches.UpsertAsync(workspace.Key, key, new UsageBatch(chunk), cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // A lost batch must not stop the writer; the log says which calls it held.
                    ModelGatewayLog.UsageWriteFailed(logger, exception, chunk[0].Id, chunk.Length);
                }
            }
        }
    }

    private static string RowPrefix(DateTimeOffset at) => at.UtcDateTime.ToString(RowTimeFormat, CultureInfo.InvariantCulture);
}
